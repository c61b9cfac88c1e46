/**
 * The one request module: base URL, the CSRF header on state-changing calls, the error
 * display with the server's bilingual field messages, and the return to log-in on 401 (and
 * back to the page afterwards). Pages never call `fetch` themselves.
 */
import { ElMessage } from 'element-plus'

import { currentLocale } from '@/locales'

export const BASE = '/api'

export interface FieldMessage {
  field: string
  message_zh: string
  message_en: string
}

/** The server's error body (`ErrorResponse`), carried by a rejected call. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly messageZh: string
  readonly messageEn: string
  readonly fields: FieldMessage[]

  constructor(status: number, body: Partial<{ code: string; message_zh: string; message_en: string; fields: FieldMessage[] }>) {
    super(body.message_en ?? `HTTP ${status}`)
    this.status = status
    this.code = body.code ?? `http_${status}`
    this.messageZh = body.message_zh ?? `请求失败（${status}）`
    this.messageEn = body.message_en ?? `request failed (${status})`
    this.fields = body.fields ?? []
  }

  /** The message in the user's language. */
  get text(): string {
    return currentLocale() === 'en-US' ? this.messageEn : this.messageZh
  }

  /** Field key -> message in the user's language, for `el-form-item :error`. */
  fieldMessages(): Record<string, string> {
    const english = currentLocale() === 'en-US'
    return Object.fromEntries(this.fields.map((f) => [f.field.replace(/^body\./, ''),
      english ? f.message_en : f.message_zh]))
  }
}

export type QueryValue = string | number | boolean | null | undefined | Array<string | number>
export type Query = Record<string, QueryValue>

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** Do not show the error as a message: the caller shows it (e.g. beside form fields). */
  silent?: boolean
  /** Asks whether anyone is signed in: a 401 is the answer, not an expired session. */
  probe?: boolean
  /** A file sent as the raw body, with its own content type (uploads). */
  file?: File
}

let csrfToken: string | null = null
let onUnauthenticated: (() => void) | null = null
let onForbiddenPasswordChange: (() => void) | null = null

export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

/** Installed by the router: where to go on 401 and on `password_change_required`. */
export function setNavigationHandlers(handlers: { unauthenticated: () => void; mustChangePassword: () => void }): void {
  onUnauthenticated = handlers.unauthenticated
  onForbiddenPasswordChange = handlers.mustChangePassword
}

/** `{state: ['a','b'], page: 2, q: ''}` -> `state=a,b&page=2` (blank values left out). */
export function queryString(query: Query | undefined): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined || value === '') continue
    if (Array.isArray(value)) {
      if (value.length) params.set(key, value.join(','))
    } else {
      params.set(key, String(value))
    }
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (options.file) headers['Content-Type'] = options.file.type || 'application/octet-stream'
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response: Response
  try {
    response = await fetch(`${BASE}${path}${queryString(options.query)}`, {
      method, headers, credentials: 'same-origin',
      body: options.file ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    })
  } catch {
    const error = new ApiError(0, { code: 'network', message_zh: '无法连接服务器，请检查网络后重试',
      message_en: 'cannot reach the server; check the network and retry' })
    if (!options.silent) ElMessage.error(error.text)
    throw error
  }
  if (response.ok) return response
  let body: Partial<{ code: string; message_zh: string; message_en: string; fields: FieldMessage[] }> = {}
  try {
    body = await response.json()
  } catch {
    // not JSON (a proxy's page): the status alone tells
  }
  const error = new ApiError(response.status, body)
  if (error.status === 401 && !options.probe && !path.startsWith('/auth/login')) {
    csrfToken = null
    onUnauthenticated?.()
  } else if (error.status === 403 && error.code === 'password_change_required') {
    onForbiddenPasswordChange?.()
  } else if (!options.silent) {
    showError(error)
  }
  throw error
}

/** The error as one message: the summary, then each field's message. */
export function showError(error: ApiError): void {
  const english = currentLocale() === 'en-US'
  const lines = [error.text, ...error.fields.map((f) => `${f.field.replace(/^body\./, '')}: ${english ? f.message_en : f.message_zh}`)]
  ElMessage({ type: 'error', message: lines.join('；'), duration: 5000, showClose: true })
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

export const get = <T>(path: string, query?: Query, silent = false) => request<T>('GET', path, { query, silent })
export const post = <T>(path: string, body?: unknown, silent = false) => request<T>('POST', path, { body, silent })
export const put = <T>(path: string, body?: unknown, silent = false) => request<T>('PUT', path, { body, silent })
export const patch = <T>(path: string, body?: unknown, silent = false) => request<T>('PATCH', path, { body, silent })
export const del = <T>(path: string) => request<T>('DELETE', path)
/** Upload one file as the raw request body (the server reads its name from the query). */
export const postFile = <T>(path: string, file: File, query?: Query, silent = false) =>
  request<T>('POST', path, { file, query, silent })

/** An export: fetched with the session cookie, then saved under the server's file name. */
export async function download(path: string, query: Query, fallbackName: string): Promise<void> {
  const response = await send('GET', path, { query })
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1]
  const plain = /filename="?([^";]+)"?/i.exec(disposition)?.[1]
  const name = encoded ? decodeURIComponent(encoded) : plain ?? fallbackName
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

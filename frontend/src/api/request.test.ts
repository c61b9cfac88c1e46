import { describe, expect, it } from 'vitest'

import { ApiError, queryString } from './request'

describe('queryString', () => {
  it('joins lists with commas and leaves out blank values', () => {
    expect(queryString({ state: ['assigned', 'claimed'], q: '', page: 2, overdue: false, x: null, y: undefined }))
      .toBe('?state=assigned%2Cclaimed&page=2&overdue=false')
    expect(queryString({ state: [] })).toBe('')
    expect(queryString(undefined)).toBe('')
  })

  it('encodes Chinese text and reserved characters', () => {
    expect(new URLSearchParams(queryString({ q: '大连 & 药' }).slice(1)).get('q')).toBe('大连 & 药')
  })
})

describe('ApiError', () => {
  it('keeps the server fields and maps them by key without the body prefix', () => {
    const error = new ApiError(422, {
      code: 'invalid_request', message_zh: '请求参数校验失败', message_en: 'request validation failed',
      fields: [{ field: 'new_password', message_zh: '至少10个字符', message_en: 'at least 10 characters' }],
    })
    expect(error.status).toBe(422)
    expect(error.text).toBe('请求参数校验失败')
    expect(error.fieldMessages()).toEqual({ new_password: '至少10个字符' })
  })

  it('has a message in both languages even when the body is not the API error shape', () => {
    const error = new ApiError(502, {})
    expect(error.code).toBe('http_502')
    expect(error.messageZh).toContain('502')
    expect(error.messageEn).toContain('502')
  })
})

describe('postFile', () => {
  it('sends the file as the raw body with its own type, the CSRF token and the query', async () => {
    const { postFile, setCsrfToken } = await import('./request')
    const calls: { url: string; init: RequestInit }[] = []
    const original = globalThis.fetch
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return new Response(JSON.stringify({ read: 3 }), { status: 200, headers: { 'Content-Type': 'application/json' } })
    }) as typeof fetch
    try {
      setCsrfToken('tok')
      const file = new File(['a,b\n1,2\n'], '名单.csv', { type: 'text/csv' })
      expect(await postFile<{ read: number }>('/marketing/imports', file, { filename: file.name })).toEqual({ read: 3 })
      const [call] = calls
      expect(call?.url).toBe(`/api/marketing/imports?filename=${encodeURIComponent('名单.csv')}`)
      const headers = call?.init.headers as Record<string, string>
      expect(headers['Content-Type']).toBe('text/csv')
      expect(headers['X-CSRF-Token']).toBe('tok')
      expect(call?.init.body).toBe(file)
    } finally {
      globalThis.fetch = original
      setCsrfToken(null)
    }
  })
})

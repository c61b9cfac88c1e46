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

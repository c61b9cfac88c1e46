// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/request'
import { useFieldSubmit } from '@/composables/useFieldSubmit'

const refused = (fields: { field: string; message_zh: string; message_en: string }[]) =>
  new ApiError(422, { code: 'invalid', message_zh: '输入有误', message_en: 'invalid input', fields })

describe('useFieldSubmit', () => {
  it('is busy while the action runs and answers true when it succeeds', async () => {
    const f = useFieldSubmit()
    let busyDuring = false
    f.errors.value = { note: 'old' }
    const ok = await f.run(async () => { busyDuring = f.busy.value })
    expect([ok, busyDuring, f.busy.value, f.errors.value]).toEqual([true, true, false, {}])
  })

  it("puts each refused field's message beside it and answers false", async () => {
    const f = useFieldSubmit()
    const ok = await f.run(async () => {
      throw refused([{ field: 'body.outcome', message_zh: '请填写', message_en: 'required' }])
    })
    expect(ok).toBe(false)
    expect(f.errors.value).toEqual({ outcome: '请填写' })
    expect(f.busy.value).toBe(false)
  })

  it('shows a refusal naming no field as a message, and throws what is not a refusal', async () => {
    const f = useFieldSubmit()
    expect(await f.run(async () => { throw refused([]) })).toBe(false)
    expect(f.errors.value).toEqual({})
    expect(document.body.textContent).toContain('输入有误')
    await expect(f.run(async () => { throw new TypeError('bug') })).rejects.toThrow('bug')
    expect(f.busy.value).toBe(false)
  })
})

// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/request'
import { useReasonAction } from '@/composables/useReasonAction'

const refused = (fields: { field: string; message_zh: string; message_en: string }[]) =>
  new ApiError(422, { code: 'invalid_reason', message_zh: '请填写原因', message_en: 'give a reason', fields })

describe('useReasonAction', () => {
  it('runs the action with the reason, busy meanwhile, and closes when it succeeds', async () => {
    const seen: string[] = []
    let busyDuring = false
    const a = useReasonAction(async (reason) => { seen.push(reason); busyDuring = a.busy.value })
    a.start()
    expect(a.open.value).toBe(true)
    await a.submit('接口已恢复')
    expect(seen).toEqual(['接口已恢复'])
    expect(busyDuring).toBe(true)
    expect([a.open.value, a.busy.value, a.error.value]).toEqual([false, false, ''])
  })

  it("puts the server's message for reason beside the field and stays open", async () => {
    const a = useReasonAction(async () => {
      throw refused([{ field: 'body.reason', message_zh: '2-500字', message_en: '2-500 characters' }])
    })
    a.start()
    await a.submit('x')
    expect([a.open.value, a.busy.value, a.error.value]).toEqual([true, false, '2-500字'])
    a.start()  // opened again: no old message
    expect(a.error.value).toBe('')
  })

  it('shows any other refusal as a message, and does not swallow what is not a refusal', async () => {
    const other = useReasonAction(async () => { throw refused([]) })
    other.start()
    await other.submit('理由')
    expect([other.open.value, other.error.value]).toEqual([true, ''])
    expect(document.body.textContent).toContain('请填写原因')
    const bug = useReasonAction(async () => { throw new TypeError('bug') })
    await expect(bug.submit('理由')).rejects.toThrow('bug')
    expect(bug.busy.value).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'

import { ACTIONS, allowedActions, keptAction } from './warnings'

describe('the handling form follows the server rules', () => {
  it('allows any action for a confirmed risk and only watching otherwise', () => {
    expect(allowedActions('risk_confirmed')).toEqual(ACTIONS)
    expect(allowedActions('explained')).toEqual(['watch'])
    expect(allowedActions('false_alarm')).toEqual(['watch'])
    expect(allowedActions('')).toEqual([])
  })

  it('keeps a chosen action while it is allowed and falls back to watching', () => {
    expect(keptAction('risk_confirmed', 'freeze')).toBe('freeze')
    expect(keptAction('explained', 'freeze')).toBe('watch')
    expect(keptAction('risk_confirmed', '')).toBe('')
    expect(keptAction('', 'watch')).toBe('')
  })
})

import { describe, expect, it } from 'vitest'

import { presetRange } from './dates'

describe('presetRange', () => {
  it('gives today as a one-day range', () => {
    expect(presetRange('today', '2026-09-01')).toEqual(['2026-09-01', '2026-09-01'])
  })

  it('runs weeks from Monday to Sunday, also when today is a Sunday', () => {
    expect(presetRange('thisWeek', '2026-09-02')).toEqual(['2026-08-31', '2026-09-06'])
    expect(presetRange('thisWeek', '2026-09-06')).toEqual(['2026-08-31', '2026-09-06'])
    expect(presetRange('thisWeek', '2026-08-31')).toEqual(['2026-08-31', '2026-09-06'])
  })

  it('knows the length of each month, February of a leap year included', () => {
    expect(presetRange('thisMonth', '2028-02-10')).toEqual(['2028-02-01', '2028-02-29'])
    expect(presetRange('thisMonth', '2026-11-30')).toEqual(['2026-11-01', '2026-11-30'])
  })

  it('gives last month across a year boundary', () => {
    expect(presetRange('lastMonth', '2026-01-15')).toEqual(['2025-12-01', '2025-12-31'])
    expect(presetRange('lastMonth', '2026-03-31')).toEqual(['2026-02-01', '2026-02-28'])
  })

  it('starts the last twelve months on the first day of the month eleven months back', () => {
    expect(presetRange('last12Months', '2026-09-15')).toEqual(['2025-10-01', '2026-09-15'])
  })
})

import { describe, expect, it } from 'vitest'

import { count, date, dateTime, EMPTY, percent, toFen, wanYuan, yuan } from './format'

describe('yuan', () => {
  it('shows two decimals and thousands separators', () => {
    expect(yuan('1340000.00')).toBe('1,340,000.00')
    expect(yuan('0.5')).toBe('0.50')
    expect(yuan(999)).toBe('999.00')
    expect(yuan('1234567.891')).toBe('1,234,567.89')
  })

  it('rounds half away from zero without going through a float', () => {
    expect(yuan('0.005')).toBe('0.01')
    expect(yuan('-0.005')).toBe('-0.01')
    expect(yuan('2.675')).toBe('2.68') // a float would give 2.67
    expect(yuan('99999999999999999.995')).toBe('100,000,000,000,000,000.00')
  })

  it('keeps the sign of negative amounts and never shows minus zero', () => {
    expect(yuan('-1234.5')).toBe('-1,234.50')
    expect(yuan('-0.001')).toBe('0.00')
  })

  it('shows a dash for blank or unreadable values', () => {
    for (const blank of [null, undefined, '', 'abc', '1.2.3', '.', Number.NaN]) {
      expect(yuan(blank)).toBe(EMPTY)
    }
  })

  it('agrees with Intl on every whole number of fen it is given', () => {
    const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    let seed = 7
    for (let i = 0; i < 2000; i += 1) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      const fen = (seed % 2 === 0 ? 1 : -1) * (seed * 977 % 9_000_000_000_000)
      const text = `${fen < 0 ? '-' : ''}${Math.trunc(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`
      expect(yuan(text)).toBe(money.format(fen / 100).replace('-0.00', '0.00'))
      expect(toFen(text)).toBe(BigInt(fen))
    }
  })
})

describe('wanYuan', () => {
  it('divides by ten thousand and keeps two decimals', () => {
    expect(wanYuan('1340000.00')).toBe('134.00')
    expect(wanYuan('14000000')).toBe('1,400.00')
    expect(wanYuan('12345')).toBe('1.23')
    expect(wanYuan('150')).toBe('0.02')
    expect(wanYuan('149.99')).toBe('0.01')
    expect(wanYuan('-150')).toBe('-0.02')
    expect(wanYuan(null)).toBe(EMPTY)
  })
})

describe('date and dateTime', () => {
  it('shows the calendar day in Shanghai whatever the offset of the input', () => {
    expect(date('2026-09-01T09:00:00+08:00')).toBe('2026-09-01')
    expect(date('2026-08-31T17:30:00Z')).toBe('2026-09-01')
    expect(date('2026-09-01')).toBe('2026-09-01')
    expect(dateTime('2026-08-31T17:30:00Z')).toBe('2026-09-01 01:30')
    expect(dateTime('2026-09-01T00:05:00+08:00')).toBe('2026-09-01 00:05')
  })

  it('shows a dash for blank or unreadable values', () => {
    expect(date(null)).toBe(EMPTY)
    expect(date('soon')).toBe(EMPTY)
    expect(dateTime('')).toBe(EMPTY)
  })
})

describe('percent and count', () => {
  it('shows ratios as percentages', () => {
    expect(percent(0.1234)).toBe('12.34%')
    expect(percent(1)).toBe('100.00%')
    expect(percent(-0.05, 1)).toBe('-5.0%')
    expect(percent(null)).toBe(EMPTY)
  })

  it('groups whole numbers', () => {
    expect(count(1234567)).toBe('1,234,567')
    expect(count(-1000)).toBe('-1,000')
    expect(count(undefined)).toBe(EMPTY)
  })
})

import { describe, expect, it } from 'vitest'

import { readFilters, writeFilters } from './useList'

const defaults = { q: '', state: [] as string[], overdue: false, sub_branch: '' }

describe('filters in the URL query', () => {
  it('reads values typed like the defaults: lists comma-split, booleans from "true"', () => {
    expect(readFilters(defaults, { q: 'P2102', state: 'assigned,claimed', overdue: 'true' }))
      .toEqual({ q: 'P2102', state: ['assigned', 'claimed'], overdue: true, sub_branch: '' })
    expect(readFilters(defaults, { state: '', overdue: 'yes' }))
      .toEqual({ q: '', state: [], overdue: false, sub_branch: '' })
  })

  it('takes the first of repeated keys and ignores keys it does not know', () => {
    expect(readFilters(defaults, { q: ['a', 'b'], page: '3', other: 'x' }).q).toBe('a')
    expect(Object.keys(readFilters(defaults, { other: 'x' }))).toEqual(Object.keys(defaults))
  })

  it('writes only what differs from the defaults', () => {
    expect(writeFilters(defaults, { q: '', state: ['drawn'], overdue: true, sub_branch: '' }))
      .toEqual({ state: 'drawn', overdue: 'true' })
    expect(writeFilters(defaults, { ...defaults })).toEqual({})
  })

  it('round-trips every combination through the query', () => {
    const samples = [
      { q: '92210211MA0', state: ['assigned'], overdue: false, sub_branch: 'DL003' },
      { q: '', state: ['claimed', 'verified'], overdue: true, sub_branch: '' },
      { q: '大连 药房', state: [], overdue: true, sub_branch: 'DL017' },
    ]
    for (const filters of samples) {
      expect(readFilters(defaults, writeFilters(defaults, filters))).toEqual(filters)
    }
  })
})

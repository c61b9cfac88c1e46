import { describe, expect, it } from 'vitest'

import { cumulative, lightOf, psiTrendOption, rocOption } from './charts'

const bands = [
  { band: '[-inf, 500)', rows: 100, bads: 40 },
  { band: '[500, 600)', rows: 300, bads: 30 },
  { band: '[600, +inf)', rows: 600, bads: 30 },
]

describe('cumulative', () => {
  it('adds up the shares of bads and goods from the lowest band, ending at one', () => {
    const c = cumulative(bands)
    expect(c.map((x) => x.bads)).toEqual([0.4, 0.7, 1])
    expect(c[0]?.goods).toBeCloseTo(60 / 900)
    expect(c[2]?.goods).toBe(1)
  })

  it('gives zero shares rather than NaN when a population has no bads', () => {
    const c = cumulative([{ band: 'a', rows: 5, bads: 0 }])
    expect(c[0]).toEqual({ band: 'a', bads: 0, goods: 1 })
  })
})

describe('rocOption', () => {
  it('starts at the origin and puts one point per band edge, in percent', () => {
    const option = rocOption(bands, { roc: 'ROC', chance: 'chance' }) as { series: { data: number[][] }[] }
    const points = option.series[0]?.data ?? []
    expect(points[0]).toEqual([0, 0])
    expect(points).toHaveLength(4)
    expect(points[3]).toEqual([100, 100])
    expect(points[1]?.[1]).toBe(40)
  })
})

describe('psiTrendOption', () => {
  it('shades the three threshold bands and keeps the axis above the highest value', () => {
    const option = psiTrendOption(['2026-07', '2026-08'], [{ name: 'pharmacy', values: [0.05, 0.61] }],
      { watch: 0.1, shift: 0.25 }, { stable: 's', watch: 'w', shift: 'x' }) as {
      yAxis: { max: number }; series: { markArea?: { data: [{ yAxis: number }, { yAxis: number }][] } }[]
    }
    expect(option.yAxis.max).toBeGreaterThanOrEqual(0.61)
    const areas = option.series[0]?.markArea?.data ?? []
    expect(areas.map(([lo, hi]) => [lo.yAxis, hi.yAxis]).slice(0, 2)).toEqual([[0, 0.1], [0.1, 0.25]])
  })
})

describe('lightOf', () => {
  it('maps the statuses to green, amber, red and grey', () => {
    expect(['stable', 'watch', 'shift', 'no_data'].map(lightOf)).toEqual(['success', 'warning', 'danger', 'info'])
  })
})

import { describe, expect, it } from 'vitest'

import type { FunnelStep } from '@/api/marketing'

import { funnelOption } from './funnel'

const step = (stage: string, count: number, amount_wan: string | null = null): FunnelStep => ({
  stage, stage_zh: `${stage}-zh`, stage_en: stage, count, amount: null, amount_wan,
})

describe('funnelOption', () => {
  it('keeps the stages in their order, one value per stage, the amount where there is one', () => {
    const option = funnelOption([step('listed', 200), step('contacted', 80), step('drawn', 3, '90.00')], false, '万元') as {
      series: { sort: string; max: number; data: { name: string; value: number }[] }[]
    }
    const [series] = option.series
    expect(series?.sort).toBe('none')
    expect(series?.max).toBe(200)
    expect(series?.data.map((d) => d.value)).toEqual([200, 80, 3])
    expect(series?.data[0]?.name).toBe('listed-zh 200')
    expect(series?.data[2]?.name).toBe('drawn-zh 3 · 90.00 万元')
  })

  it('labels in English when asked, and survives an empty campaign', () => {
    const option = funnelOption([step('listed', 0)], true, '10k yuan') as { series: { max: number; data: { name: string }[] }[] }
    expect(option.series[0]?.max).toBe(1)
    expect(option.series[0]?.data[0]?.name).toBe('listed 0')
  })
})

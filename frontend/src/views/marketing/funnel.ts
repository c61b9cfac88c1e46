/** The campaign funnel as an ECharts option: one bar per stage (count), the amount in 万元 in
 * the label where the stage carries one. Pure, so it is tested without a browser. */
import type { FunnelStep } from '@/api/marketing'
import type { EChartsCoreOption } from '@/utils/echarts'

export function funnelOption(steps: FunnelStep[], english: boolean, unitWan: string): EChartsCoreOption {
  const label = (s: FunnelStep) => (english ? s.stage_en : s.stage_zh)
  const max = Math.max(1, ...steps.map((s) => s.count))
  return {
    tooltip: { trigger: 'item' },
    series: [{
      type: 'funnel',
      sort: 'none',
      min: 0,
      max,
      minSize: '8%',
      gap: 2,
      label: { show: true, position: 'inside' },
      data: steps.map((s) => ({
        name: s.amount_wan !== null ? `${label(s)} ${s.count} · ${s.amount_wan} ${unitWan}` : `${label(s)} ${s.count}`,
        value: s.count,
      })),
    }],
  }
}

/** The workbench's charts as ECharts options, drawn from the report the server computed
 * (``modelkit.validation`` / ``modelkit.monitoring``): no statistic is computed here, only
 * the report's own band counts laid out. Pure, so it is tested without a browser. */
import type { EChartsCoreOption } from '@/utils/echarts'

export interface BandCount { band: string; rows: number; bads: number }
export interface ShareBin { bin: string; expected_share: number; actual_share: number }
export interface Thresholds { watch: number; shift: number }

/** Cumulative shares of bads and goods from the lowest score band up: the ROC points at the
 * band edges (x goods, y bads) and the KS gap of each edge. */
export function cumulative(bands: BandCount[]): { band: string; bads: number; goods: number }[] {
  const bads = bands.reduce((n, b) => n + b.bads, 0)
  const goods = bands.reduce((n, b) => n + b.rows - b.bads, 0)
  let cb = 0
  let cg = 0
  return bands.map((b) => {
    cb += b.bads
    cg += b.rows - b.bads
    return { band: b.band, bads: bads ? cb / bads : 0, goods: goods ? cg / goods : 0 }
  })
}

const pct = (v: number) => Math.round(v * 10000) / 100

export function rocOption(bands: BandCount[], labels: { roc: string; chance: string }): EChartsCoreOption {
  const points = [[0, 0], ...cumulative(bands).map((c) => [pct(c.goods), pct(c.bads)])]
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 20, bottom: 40, top: 36 },
    xAxis: { type: 'value', min: 0, max: 100, name: 'good %' },
    yAxis: { type: 'value', min: 0, max: 100, name: 'bad %' },
    series: [
      { name: labels.roc, type: 'line', data: points, symbolSize: 6 },
      { name: labels.chance, type: 'line', data: [[0, 0], [100, 100]], lineStyle: { type: 'dashed' }, symbol: 'none' },
    ],
  }
}

export function ksOption(bands: BandCount[], labels: { bads: string; goods: string }): EChartsCoreOption {
  const c = cumulative(bands)
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 20, bottom: 60, top: 36 },
    xAxis: { type: 'category', data: c.map((x) => x.band), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', min: 0, max: 100, name: '%' },
    series: [
      { name: labels.bads, type: 'line', data: c.map((x) => pct(x.bads)) },
      { name: labels.goods, type: 'line', data: c.map((x) => pct(x.goods)) },
    ],
  }
}

export function distributionOption(bins: ShareBin[], labels: { development: string; recent: string }): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 20, bottom: 60, top: 36 },
    xAxis: { type: 'category', data: bins.map((b) => b.bin), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: '%' },
    series: [
      { name: labels.development, type: 'bar', data: bins.map((b) => pct(b.expected_share)) },
      { name: labels.recent, type: 'bar', data: bins.map((b) => pct(b.actual_share)) },
    ],
  }
}

export interface RateBand { band: string; observed_bad_rate: number | null; predicted_bad_rate: number | null }

export function badRateOption(bands: RateBand[], labels: { observed: string; predicted: string }): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 20, bottom: 60, top: 36 },
    xAxis: { type: 'category', data: bands.map((b) => b.band), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: '%' },
    series: [
      { name: labels.observed, type: 'bar', data: bands.map((b) => (b.observed_bad_rate === null ? null : pct(b.observed_bad_rate))) },
      { name: labels.predicted, type: 'line', data: bands.map((b) => (b.predicted_bad_rate === null ? null : pct(b.predicted_bad_rate))) },
    ],
  }
}

/** PSI per month, one line per series, over the threshold bands (stable / watch / shift). */
export function psiTrendOption(months: string[], series: { name: string; values: (number | null)[] }[],
  thresholds: Thresholds, bandNames: { stable: string; watch: string; shift: string }): EChartsCoreOption {
  const top = Math.max(thresholds.shift * 1.6, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)))
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 20, bottom: 30, top: 36 },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', min: 0, max: Math.ceil(top * 100) / 100, name: 'PSI' },
    series: series.map((s, i) => ({
      name: s.name, type: 'line', data: s.values, connectNulls: false, symbolSize: 8,
      ...(i === 0 ? {
        markArea: {
          silent: true,
          label: { position: 'insideTopLeft', color: '#909399' },
          data: [
            [{ name: bandNames.stable, yAxis: 0, itemStyle: { color: 'rgba(103,194,58,0.10)' } }, { yAxis: thresholds.watch }],
            [{ name: bandNames.watch, yAxis: thresholds.watch, itemStyle: { color: 'rgba(230,162,60,0.14)' } }, { yAxis: thresholds.shift }],
            [{ name: bandNames.shift, yAxis: thresholds.shift, itemStyle: { color: 'rgba(245,108,108,0.14)' } }, { yAxis: Math.ceil(top * 100) / 100 }],
          ],
        },
      } : {}),
    })),
  }
}

/** Element Plus tag type of a PSI/CSI status (the traffic light). */
export function lightOf(status: string): 'success' | 'warning' | 'danger' | 'info' {
  return status === 'stable' ? 'success' : status === 'watch' ? 'warning' : status === 'shift' ? 'danger' : 'info'
}

/**
 * ECharts, imported per chart type through `echarts/core` so the bundle carries only the bar,
 * line and funnel charts and the components the platform uses. Loaded only by the pages with
 * charts (their own chunks).
 */
import { BarChart, FunnelChart, LineChart } from 'echarts/charts'
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, FunnelChart, GridComponent, TooltipComponent, LegendComponent,
  TitleComponent, MarkLineComponent, MarkAreaComponent, DataZoomComponent, CanvasRenderer])

export { echarts }
export type { EChartsCoreOption } from 'echarts/core'

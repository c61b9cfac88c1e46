/** The sub-branch performance board (§4.7). */
import type { Query } from './request'
import { download, get } from './request'
import type { Schemas } from './types'

export type Performance = Schemas['Performance']
export type PerformanceRow = Schemas['PerformanceRow']

export const fetchPerformance = (query: Query) => get<Performance>('/performance', query)
export const exportPerformance = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/performance/export.${format}`, query, `performance.${format}`)

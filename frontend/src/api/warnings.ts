/** Post-loan warnings: inbox, handling, export (§4.4). */
import type { Query } from './request'
import { download, get, post } from './request'
import type { Schemas } from './types'

export type WarningItem = Schemas['WarningItem']

export const listWarnings = (query: Query) => get<Schemas['WarningPage']>('/warnings', query)
export const handleWarning = (id: number, outcome: string) =>
  post<Schemas['StateChange']>(`/warnings/${id}/outcome`, { outcome } satisfies Schemas['Outcome'], true)
export const exportWarnings = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/warnings/export.${format}`, query, `warnings.${format}`)

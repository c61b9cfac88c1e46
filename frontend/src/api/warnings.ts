/** Post-loan warnings: inbox, handling, export, the outcomes per rule, a case's limit actions (§4.4). */
import type { Query } from './request'
import { download, get, post } from './request'
import type { Schemas } from './types'

export type WarningItem = Schemas['WarningItem']
export type OutcomeCounts = Schemas['OutcomeCounts']
export type LimitActions = Schemas['LimitActions']
export type HandlingForm = Schemas['Outcome']

export const OUTCOME_KINDS = ['false_alarm', 'explained', 'risk_confirmed'] as const
export const ACTIONS = ['watch', 'reduce_limit', 'freeze', 'recover'] as const

export const listWarnings = (query: Query) => get<Schemas['WarningPage']>('/warnings', query)
export const handleWarning = (id: number, form: HandlingForm) =>
  post<Schemas['StateChange']>(`/warnings/${id}/outcome`, form, true)
export const exportWarnings = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/warnings/export.${format}`, query, `warnings.${format}`)
export const fetchOutcomes = () => get<OutcomeCounts>('/warnings/outcomes')
export const fetchLimitActions = (caseId: number) => get<LimitActions>(`/cases/${caseId}/limit-actions`)

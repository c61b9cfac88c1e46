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
export type HandlingAction = (typeof ACTIONS)[number]

/** The actions a finding allows, as the server checks them (`domain/ews/handling.py`): a
 * confirmed risk any action, a false alarm or an explanation only watching, nothing chosen yet
 * none. */
export function allowedActions(kind: string): readonly HandlingAction[] {
  if (kind === 'risk_confirmed') return ACTIONS
  return kind ? ['watch'] : []
}

/** The action to keep when the finding changes: the chosen one if still allowed, otherwise
 * watching where that is the only choice, otherwise none. */
export function keptAction(kind: string, action: string): string {
  const allowed = allowedActions(kind) as readonly string[]
  if (allowed.includes(action)) return action
  return allowed.length === 1 ? (allowed[0] ?? '') : ''
}

export const listWarnings = (query: Query) => get<Schemas['WarningPage']>('/warnings', query)
export const handleWarning = (id: number, form: HandlingForm) =>
  post<Schemas['StateChange']>(`/warnings/${id}/outcome`, form, true)
export const exportWarnings = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/warnings/export.${format}`, query, `warnings.${format}`)
export const fetchOutcomes = () => get<OutcomeCounts>('/warnings/outcomes')
export const fetchLimitActions = (caseId: number) => get<LimitActions>(`/cases/${caseId}/limit-actions`)

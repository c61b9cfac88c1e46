/** Cases: list, detail, claim, verification, confirmation, export (§4.3). */
import type { Query } from './request'
import { download, get, post } from './request'
import type { Schemas } from './types'

export type CaseListItem = Schemas['CaseListItem']
export type CaseDetail = Schemas['CaseDetail']
export type Decision = Schemas['Decision']
export type ChecklistItem = Schemas['ChecklistItem']
export type ActionResult = Schemas['StateChange']

export const listCases = (query: Query) => get<Schemas['CasePage']>('/cases', query)
export const getCase = (id: number) => get<CaseDetail>(`/cases/${id}`, undefined, true)
export const claimCase = (id: number) => post<ActionResult>(`/cases/${id}/claim`)
export const verifyCase = (id: number, checklist: Record<string, boolean>, note: string) =>
  post<ActionResult>(`/cases/${id}/verification`, { checklist, note } satisfies Schemas['Verification'], true)
export const confirmCase = (id: number) => post<ActionResult>(`/cases/${id}/confirmation`)
export const exportCases = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/cases/export.${format}`, query, `cases.${format}`)

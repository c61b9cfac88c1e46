/** Cases: list, detail, claim, verification, confirmation, reassignment, mismatch override,
 * attachments, export (§4.3). */
import type { Query } from './request'
import { download, get, post, postFile } from './request'
import type { Schemas } from './types'

export type CaseListItem = Schemas['CaseListItem']
export type CaseDetail = Schemas['CaseDetail']
export type Decision = Schemas['Decision']
export type ChecklistItem = Schemas['ChecklistItem']
export type ActionResult = Schemas['StateChange']
export type Reassignment = Schemas['Reassignment']
export type Attachment = Schemas['AttachmentOut']
export type AttachmentList = Schemas['AttachmentList']

export const listCases = (query: Query) => get<Schemas['CasePage']>('/cases', query)
export const getCase = (id: number) => get<CaseDetail>(`/cases/${id}`, undefined, true)
export const claimCase = (id: number) => post<ActionResult>(`/cases/${id}/claim`)
export const verifyCase = (id: number, checklist: Record<string, boolean>, note: string,
  findings?: Record<string, string>) =>
  post<ActionResult>(`/cases/${id}/verification`,
    { checklist, note, findings: findings && Object.keys(findings).length ? findings : null } satisfies Schemas['Verification'], true)
export const confirmCase = (id: number) => post<ActionResult>(`/cases/${id}/confirmation`)
export const reassignCase = (id: number, body: Reassignment) =>
  post<ActionResult>(`/cases/${id}/reassignment`, body, true)
export const overrideMismatches = (id: number, reason: string) =>
  post<ActionResult>(`/cases/${id}/mismatch-override`, { reason } satisfies Schemas['Override'], true)
export const listAttachments = (id: number) => get<AttachmentList>(`/cases/${id}/attachments`)
export const uploadAttachment = (id: number, file: File, item: string | null) =>
  postFile<Attachment>(`/cases/${id}/attachments`, file, { filename: file.name, item }, true)
export const downloadAttachment = (id: number, a: Attachment) =>
  download(`/cases/${id}/attachments/${a.id}`, {}, a.filename)
export const exportCases = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/cases/export.${format}`, query, `cases.${format}`)

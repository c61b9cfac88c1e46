/** The append-only audit log (§4.8). */
import type { Query } from './request'
import { download, get } from './request'
import type { Schemas } from './types'

export type AuditItem = Schemas['AuditItem']

export const listAudit = (query: Query) => get<Schemas['AuditPage']>('/audit', query)
export const exportAudit = (query: Query, format: 'xlsx' | 'csv') =>
  download(`/audit/export.${format}`, query, `audit.${format}`)

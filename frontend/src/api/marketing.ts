/** Marketing over the bureau's list: prospects, call list, outcomes, campaigns, imports (§4.11). */
import type { Query } from './request'
import { download, get, post, postFile } from './request'
import type { Schemas } from './types'

export type ProspectItem = Schemas['ProspectItem']
export type ProspectDetail = Schemas['ProspectDetail']
export type CallList = Schemas['CallList']
export type CallListItem = Schemas['CallListItem']
export type OutcomeIn = Schemas['OutcomeIn']
export type OutcomeCode = OutcomeIn['outcome']
export type CampaignItem = Schemas['CampaignItem']
export type CampaignIn = Schemas['CampaignIn']
export type CampaignFunnel = Schemas['CampaignFunnel']
export type FunnelStep = Schemas['FunnelStepOut']
export type ImportReport = Schemas['ImportReportOut']
export type ImportItem = Schemas['ImportItem']

/** The outcomes staff record, in the order of a conversation. */
export const OUTCOMES: OutcomeCode[] = ['not_reached', 'not_interested', 'interested', 'visit_scheduled', 'visited', 'authorized']
export const STATES = ['listed', ...OUTCOMES] as const

export const listProspects = (query: Query) => get<Schemas['ProspectPage']>('/marketing/prospects', query)
export const getProspect = (id: number) => get<ProspectDetail>(`/marketing/prospects/${id}`)
export const recordOutcome = (id: number, body: OutcomeIn) =>
  post<Schemas['StateChange']>(`/marketing/prospects/${id}/outcome`, body, true)

export const getCallList = (managerId?: number) =>
  get<CallList>('/marketing/call-list', { manager_id: managerId })
export const exportCallList = (format: 'xlsx' | 'csv', managerId?: number) =>
  download(`/marketing/call-list/export.${format}`, { manager_id: managerId }, `call-list.${format}`)

export const listCampaigns = () => get<CampaignItem[]>('/marketing/campaigns')
export const createCampaign = (body: CampaignIn) => post<Schemas['Created']>('/marketing/campaigns', body, true)
export const getCampaign = (id: number) => get<CampaignFunnel>(`/marketing/campaigns/${id}`)

export const listImports = () => get<ImportItem[]>('/marketing/imports')
export const uploadList = (file: File) =>
  postFile<ImportReport>('/marketing/imports', file, { filename: file.name }, true)
export const getImport = (id: number) => get<ImportReport>(`/marketing/imports/${id}`)
export const downloadImportReport = (id: number) =>
  download(`/marketing/imports/${id}/report.xlsx`, {}, `import-report-${id}.xlsx`)

/** Whitelist model versions (§4.6): list, diff, new draft, lifecycle actions, shadow results. */
import type { Query } from './request'
import { download, get, post, postFile } from './request'
import type { operations } from './schema'
import type { Schemas } from './types'

export type ModelVersion = Schemas['ModelVersion']
export type ModelDetail = Schemas['ModelVersionDetail']
export type ModelDiff = Schemas['ModelDiff']
export type ShadowResults = Schemas['ShadowResults']
export type ModelAction = Schemas['ActionRequest']['action']

export const listModels = () => get<ModelVersion[]>('/models')
export const getModel = (id: number) => get<ModelDetail>(`/models/${id}`)
export const diffModels = (a: number, b: number) => get<ModelDiff>('/models/diff', { a, b })
export const createDraft = (body: Schemas['DraftRequest']) => post<ModelDetail>('/models', body, true)
export const actOnModel = (id: number, action: ModelAction) =>
  post<ModelDetail>(`/models/${id}/actions`, { action } satisfies Schemas['ActionRequest'])
export const fetchShadow = () => get<ShadowResults>('/models/shadow')

/** The model workbench (issue 13): validation report, monitoring, a draft built from a sample. */
export type ValidationPage = Schemas['ValidationPage']
export type ValidationReport = Schemas['ValidationReport']
export type SegmentValidation = Schemas['SegmentValidation']
export type Stability = Schemas['Stability']
export type MonitoringReport = Schemas['MonitoringReport']
/** The build's options travel as query parameters beside the raw CSV body. */
export type BuildOptions = NonNullable<operations['post_build_api_models_builds_post']['parameters']['query']>

export const getValidation = (id: number, months = 3) => get<ValidationPage>(`/models/${id}/validation`, { months }, true)
export const downloadValidation = (id: number, months = 3) =>
  download(`/models/${id}/validation.xlsx`, { months }, `validation-${id}.xlsx`)
export const getMonitoring = (id: number, months = 6) => get<MonitoringReport>(`/models/${id}/monitoring`, { months }, true)
export const buildDraft = (file: File, options: Partial<BuildOptions>) =>
  postFile<ModelDetail>('/models/builds', new File([file], file.name, { type: 'text/csv' }), options as Query, true)

/** Whitelist model versions (§4.6): list, diff, new draft, lifecycle actions, shadow results. */
import { get, post } from './request'
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

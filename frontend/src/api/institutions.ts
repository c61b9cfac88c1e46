/** The institution view (§4.5): department managers and above. */
import { get } from './request'
import type { Schemas } from './types'

export type InstitutionView = Schemas['InstitutionView']
export type MonthRow = Schemas['MonthOut']

export const getInstitution = (code: string, months = 24) =>
  get<InstitutionView>(`/institutions/${encodeURIComponent(code)}`, { months }, true)

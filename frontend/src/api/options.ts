/** Codes and labels for filters and forms, already scoped to the user (§4.1). */
import { get } from './request'
import type { Schemas } from './types'

export type Options = Schemas['Options']

export const fetchOptions = () => get<Options>('/options')

/**
 * Types shared by the area modules. The API's shapes come from the generated `schema.d.ts`
 * (openapi-typescript over the code's `/openapi.json`; `make api-types` regenerates it and
 * `make test` fails when it is stale); each area's module aliases the ones it uses.
 */
import type { components } from './schema'

export type Schemas = components['schemas']

/** Every list answers `{items, total, page, page_size}` (docs/platform-api.md §1). */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

/** Where a figure leads: a list and its filters. */
export type Link = Schemas['Link']
/** A code with its labels in both languages (filters, cascader). */
export type Option = Schemas['Option']
/** A value the server formatted for people (`label_*`, `display_*`). */
export type Display = Schemas['Labelled']

/**
 * The one list composable: filters, sort, page and page size live in the URL query (so a
 * list can be bookmarked, shared, and reached from a dashboard figure), and the list reloads
 * whenever the query changes. Pages give the fetch function and the default filters.
 */
import type { Ref } from 'vue'
import { computed, reactive, ref, watch } from 'vue'
import type { LocationQuery } from 'vue-router'
import { useRoute, useRouter } from 'vue-router'

import type { Query } from '@/api/request'
import type { Page } from '@/api/types'

export type FilterValue = string | string[] | boolean
export type Filters = Record<string, FilterValue>

export interface ListOptions<T, F extends Filters> {
  fetch: (query: Query) => Promise<Page<T>>
  filters: F
  sort?: string
  pageSize?: number
}

function first(value: LocationQuery[string] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value
  return one ?? undefined
}

/** URL query -> filters, typed like the defaults (lists comma-split, booleans "true"). */
export function readFilters<F extends Filters>(defaults: F, query: LocationQuery): F {
  const out: Filters = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const raw = first(query[key])
    if (raw === undefined) out[key] = Array.isArray(fallback) ? [...fallback] : fallback
    else if (Array.isArray(fallback)) out[key] = raw ? raw.split(',') : []
    else if (typeof fallback === 'boolean') out[key] = raw === 'true'
    else out[key] = raw
  }
  return out as F
}

/** Filters -> URL query, leaving out what equals the default. */
export function writeFilters<F extends Filters>(defaults: F, filters: F): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(filters)) {
    const text = Array.isArray(value) ? value.join(',') : String(value)
    const fallback = defaults[key]
    const base = Array.isArray(fallback) ? fallback.join(',') : String(fallback)
    if (text !== base && !(value === false) && text !== '') out[key] = text
  }
  return out
}

export function useList<T, F extends Filters>(options: ListOptions<T, F>) {
  const route = useRoute()
  const router = useRouter()
  const defaultSort = options.sort ?? ''
  const defaultSize = options.pageSize ?? 20
  const listPath = route.path

  const filters = reactive(readFilters(options.filters, route.query)) as F
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const loading = ref(false)
  const page = computed(() => Number(first(route.query.page) ?? 1) || 1)
  const pageSize = computed(() => Number(first(route.query.page_size) ?? defaultSize) || defaultSize)
  const sort = computed(() => first(route.query.sort) ?? defaultSort)

  /** What the API gets: the filters, sort and page (exports drop the page). */
  const apiQuery = computed<Query>(() => ({ ...readFilters(options.filters, route.query), sort: sort.value }))

  let serial = 0
  async function load(): Promise<void> {
    const mine = ++serial
    loading.value = true
    try {
      const answer = await options.fetch({ ...apiQuery.value, page: page.value, page_size: pageSize.value })
      if (mine !== serial) return
      rows.value = answer.items
      total.value = answer.total
    } catch {
      if (mine === serial) {
        rows.value = []
        total.value = 0
      }
    } finally {
      if (mine === serial) loading.value = false
    }
  }

  function go(extra: Record<string, string | undefined>): Promise<unknown> {
    const query: Record<string, string> = { ...writeFilters(options.filters, filters) }
    if (sort.value && sort.value !== defaultSort) query.sort = sort.value
    if (pageSize.value !== defaultSize) query.page_size = String(pageSize.value)
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete query[k]
      else query[k] = v
    }
    return router.push({ path: route.path, query })
  }

  /** Apply the form's filters (back to page 1). */
  const search = () => go({ page: undefined })
  function reset(): Promise<unknown> {
    Object.assign(filters, readFilters(options.filters, {}))
    return router.push({ path: route.path, query: {} })
  }
  const setPage = (p: number) => go({ page: p > 1 ? String(p) : undefined })
  const setPageSize = (size: number) => go({ page: undefined, page_size: size !== defaultSize ? String(size) : undefined })

  /** Element Plus `sort-change`: `{prop, order}` -> `sort=-prop`. */
  function onSortChange({ prop, order }: { prop: string | null; order: 'ascending' | 'descending' | null }): Promise<unknown> {
    const next = !prop || !order ? undefined : order === 'descending' ? `-${prop}` : prop
    return go({ page: undefined, sort: next === defaultSort ? undefined : next ?? '' })
  }

  /** For `el-table :default-sort`. */
  const tableSort = computed(() => {
    const s = sort.value
    if (!s) return undefined
    return s.startsWith('-') ? { prop: s.slice(1), order: 'descending' as const } : { prop: s, order: 'ascending' as const }
  })

  watch(() => route.query, (query) => {
    if (route.path !== listPath) return // leaving the page
    Object.assign(filters, readFilters(options.filters, query))
    void load()
  }, { immediate: true })

  return { filters, rows, total, loading, page, pageSize, sort, tableSort, apiQuery, load, search, reset, setPage, setPageSize, onSortChange }
}

/** `/api/options`, fetched once per session and shared by every filter form. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import type { Options } from '@/api/options'
import { fetchOptions } from '@/api/options'
import type { Option } from '@/api/types'
import { pick } from '@/locales'

export const useOptionsStore = defineStore('options', () => {
  const options = ref<Options | null>(null)
  let pending: Promise<Options> | null = null

  async function load(): Promise<Options> {
    if (options.value) return options.value
    pending ??= fetchOptions().then((o) => (options.value = o)).finally(() => { pending = null })
    return pending
  }

  function list(key: keyof Options): Option[] {
    return options.value?.[key] ?? []
  }

  /** The label of a code in the user's language (the code itself if unknown). */
  function label(key: keyof Options, value: string | number | null | undefined): string {
    const found = list(key).find((o) => o.value === value)
    return found ? pick(found.label_zh, found.label_en) : String(value ?? '')
  }

  function clear(): void {
    options.value = null
  }

  return { options, load, list, label, clear }
})

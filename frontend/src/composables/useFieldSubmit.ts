/**
 * What every form does when it sends: busy meanwhile, the server's refusals put beside their
 * fields (`errors`, keyed by field path), a refusal naming no field shown as a message, and
 * anything that is not a refusal (a bug) thrown on rather than swallowed. One home, so the
 * forms cannot drift apart in how they answer a refusal.
 */
import type { Ref } from 'vue'
import { ref } from 'vue'

import { ApiError, showError } from '@/api/request'

export interface FieldSubmit {
  errors: Ref<Record<string, string>>
  busy: Ref<boolean>
  /** Run `action`; true when it succeeded, false when the server refused it. */
  run: (action: () => Promise<void>) => Promise<boolean>
}

export function useFieldSubmit(): FieldSubmit {
  const errors = ref<Record<string, string>>({})
  const busy = ref(false)

  async function run(action: () => Promise<void>): Promise<boolean> {
    errors.value = {}
    busy.value = true
    try {
      await action()
      return true
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      errors.value = e.fieldMessages()
      if (!Object.keys(errors.value).length) showError(e)
      return false
    } finally {
      busy.value = false
    }
  }

  return { errors, busy, run }
}

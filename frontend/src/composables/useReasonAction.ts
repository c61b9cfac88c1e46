/**
 * What a page does with the one reason dialog (`components/ReasonDialog.vue`): open it, run
 * the action with the reason, keep it busy meanwhile, close it when the action succeeds, and
 * when the server refuses, put its message for `reason` beside the field (any other refusal
 * as a message). Bind `open`, `error`, `busy` and `submit` to the dialog.
 */
import type { Ref } from 'vue'
import { ref } from 'vue'

import { ApiError, showError } from '@/api/request'

export interface ReasonAction {
  open: Ref<boolean>
  error: Ref<string>
  busy: Ref<boolean>
  /** Open the dialog with no message. */
  start: () => void
  /** The dialog's `submit`: runs the action with the reason. */
  submit: (reason: string) => Promise<void>
}

export function useReasonAction(action: (reason: string) => Promise<void>): ReasonAction {
  const open = ref(false)
  const error = ref('')
  const busy = ref(false)

  function start(): void {
    error.value = ''
    open.value = true
  }

  async function submit(reason: string): Promise<void> {
    busy.value = true
    error.value = ''
    try {
      await action(reason)
      open.value = false
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      error.value = e.fieldMessages().reason ?? ''
      if (!error.value) showError(e)
    } finally {
      busy.value = false
    }
  }

  return { open, error, busy, start, submit }
}

/** The unread count the bell shows; refreshed on navigation and by the inbox page. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { myNotifications } from '@/api/sla'

export const useNotificationsStore = defineStore('notifications', () => {
  const unread = ref(0)

  async function refresh(): Promise<void> {
    try {
      unread.value = (await myNotifications()).unread
    } catch {
      // the bell stays as it was; the page's own calls report errors
    }
  }

  return { unread, refresh }
})

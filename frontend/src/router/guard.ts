/**
 * The one guard: signs the user in from `/api/me` before the first page, sends the signed-out
 * to log-in (remembering where they were going), a user whose password must change to the
 * password page, and anyone without the page's permission to 403.
 */
import type { Router } from 'vue-router'

import { setNavigationHandlers } from '@/api/request'
import { i18n } from '@/locales'
import { useUserStore } from '@/stores/user'

import { allowed } from './access'

export function installGuard(router: Router): void {
  setNavigationHandlers({
    unauthenticated: () => {
      const user = useUserStore()
      user.forget()
      const here = router.currentRoute.value
      if (here.name !== 'login') {
        void router.push({ name: 'login', query: { redirect: here.fullPath, expired: '1' } })
      }
    },
    mustChangePassword: () => {
      void router.push({ name: 'password' })
    },
  })

  router.beforeEach(async (to) => {
    const user = useUserStore()
    try {
      await user.load()
    } catch {
      return to.meta.public ? true : { name: 'server-error' }
    }
    if (to.meta.public) {
      if (to.name === 'login' && user.signedIn) return { path: '/' }
      return true
    }
    if (!user.signedIn) {
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (user.me?.user.must_change_password && to.name !== 'password') {
      return { name: 'password' }
    }
    if (!allowed(to, user.can)) return { name: 'forbidden', query: { from: to.fullPath } }
    return true
  })

  router.afterEach((to) => {
    const title = to.meta.title ? i18n.global.t(to.meta.title) : ''
    document.title = title ? `${title} · ${i18n.global.t('common.appName')}` : i18n.global.t('common.appName')
  })
}

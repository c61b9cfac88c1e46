/**
 * The signed-in user as the server describes them (`/api/me`): permissions drive menus,
 * routes and buttons; the CSRF token goes to the request module; the locale to vue-i18n.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import * as auth from '@/api/auth'
import type { Me } from '@/api/auth'
import { ApiError, setCsrfToken } from '@/api/request'
import { applyLocale } from '@/locales'

import { useOptionsStore } from './options'

export const useUserStore = defineStore('user', () => {
  const me = ref<Me | null>(null)
  const loaded = ref(false)

  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const signedIn = computed(() => me.value !== null)

  function adopt(next: Me | null): void {
    me.value = next
    loaded.value = true
    setCsrfToken(next?.csrf_token ?? null)
    if (next) applyLocale(next.user.locale)
  }

  /** `/api/me` once per page load (and after a password change); null when signed out. */
  async function load(force = false): Promise<Me | null> {
    if (loaded.value && !force) return me.value
    try {
      adopt(await auth.fetchMe())
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) adopt(null)
      else throw error
    }
    return me.value
  }

  async function login(username: string, password: string): Promise<Me> {
    const next = await auth.login(username, password)
    useOptionsStore().clear()
    adopt(next)
    return next
  }

  async function logout(): Promise<void> {
    try {
      await auth.logout()
    } finally {
      forget()
    }
  }

  /** The server said the session is gone (401): drop what we knew. */
  function forget(): void {
    useOptionsStore().clear() // the next user's options are scoped to them
    me.value = null
    loaded.value = true
    setCsrfToken(null)
  }

  async function setLocale(locale: string): Promise<void> {
    applyLocale(locale)
    if (me.value) adopt(await auth.saveLocale(locale))
  }

  function can(permission: string): boolean {
    return permissions.value.has(permission)
  }

  return { me, loaded, signedIn, permissions, load, login, logout, forget, setLocale, can }
})

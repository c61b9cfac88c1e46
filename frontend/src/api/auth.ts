/** Sessions and the signed-in user (docs/platform-api.md §2). */
import { post, put, request } from './request'
import type { Schemas } from './types'

export type Me = Schemas['Me']

export const login = (username: string, password: string) =>
  post<Me>('/auth/login', { username, password } satisfies Schemas['Credentials'], true)
export const logout = () => post<void>('/auth/logout')
export const fetchMe = () => request<Me>('GET', '/me', { silent: true, probe: true })
export const changePassword = (currentPassword: string, newPassword: string) =>
  post<void>('/me/password', { current_password: currentPassword, new_password: newPassword } satisfies Schemas['PasswordChange'], true)
export const saveLocale = (locale: string) => put<Me>('/me/locale', { locale } satisfies Schemas['LocaleChoice'])

/** Users, for the branch admin, within the admin's own scope (§4.10). */
import type { Query } from './request'
import { get, patch, post } from './request'
import type { Schemas } from './types'

export type UserItem = Schemas['UserItem']
export type NewUser = Schemas['NewUser']
export type Role = Schemas['Role']

export const listUsers = (query: Query) => get<Schemas['UserPage']>('/users', query)
export const createUser = (body: NewUser) => post<Schemas['CreatedUser']>('/users', body, true)
export const updateUser = (id: number, body: Schemas['UserChange']) => patch<UserItem>(`/users/${id}`, body, true)
export const resetPassword = (id: number) => post<Schemas['TemporaryPassword']>(`/users/${id}/password-reset`)

/** SLA on the platform: penalties and lifting them, the calendar's coverage, the inbox. */
import { get, post } from './request'
import type { Schemas } from './types'

export type Penalty = Schemas['PenaltyItem']
export type CalendarStatus = Schemas['CalendarStatus']
export type Notice = Schemas['Notice']
export type Inbox = Schemas['Inbox']

export const listPenalties = () => get<Schemas['PenaltyList']>('/sla/penalties')
export const liftPenalty = (id: number, reason: string) =>
  post<Penalty>(`/sla/penalties/${id}/lift`, { reason } satisfies Schemas['Lift'], true)
export const calendarStatus = () => get<CalendarStatus>('/sla/calendar', undefined, true)
export const myNotifications = () => get<Inbox>('/me/notifications', undefined, true)
export const markRead = (ids: number[] | null) =>
  post<Schemas['Unread']>('/me/notifications/read', { ids } satisfies Schemas['MarkRead'], true)

/** The outbox of messages to the bureau and head office (§4.9). */
import type { Query } from './request'
import { get, post } from './request'
import type { Schemas } from './types'

export type OutboxItem = Schemas['OutboxItem']

export const listOutbox = (query: Query) => get<Schemas['OutboxPage']>('/outbox', query)
export const retryOutbox = (id: number, reason: string) =>
  post<OutboxItem>(`/outbox/${id}/retry`, { reason } satisfies Schemas['RetryRequest'], true)

/** The deferred handlers' events (monitoring after new data …): dead ones are retried here. */
export type DeferredEventItem = Schemas['DeferredEventItem']

export const listDeferredEvents = (query: Query) =>
  get<Schemas['DeferredEventPage']>('/outbox/events', query)
export const retryDeferredEvent = (id: number, reason: string) =>
  post<DeferredEventItem>(`/outbox/events/${id}/retry`, { reason } satisfies Schemas['RetryRequest'], true)

"""The message bus: events in, handlers run, follow-up events handled in turn.

Two kinds of handler, both registered per event type (``flow.handlers``):

* **atomic** handlers run inside the caller's unit of work, breadth first: the decision, its
  case and its answer to the bureau commit together with the data that caused them, or not
  at all. A handler returns the follow-up events it caused (or nothing).
* **deferred** handlers do not run now: the event is written to ``flow_events`` in the same
  transaction (one row per handler, keyed by the event's content, so publishing the same
  event twice queues it once) and a worker runs the handler later, in a transaction of its
  own (``worker.deferred``). For work that may wait and must not slow the gateway down:
  monitoring after new data.

Handlers are idempotent: handling an event again changes nothing (their writes are keyed —
one case per admitted institution, one outbox row per idempotency key, one warning per case,
rule and period).

A deferred handler whose work depends on only some of its event's fields may be *coalesced*
(``coalesce``): queued rows of that handler published at the same moment whose payloads give
the same key are one piece of work, and the worker's run of one of them handles them all
(``worker.deferred``). Monitoring after new data, for example, depends only on the
institution and the moment: a history of several 8301 messages pushed at once is checked once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import FlowEventRow
from yibaodai.domain.events import EVENT_TYPES, Event
from yibaodai.protocol.sm3 import sm3_hex

#: A handler: the event's consequences, written in ``session``; returns follow-up events.
Handler = Callable[[Session, Any], Iterable[Event] | None]
#: What of a queued event's payload a coalesced deferred handler's work depends on.
CoalesceKey = Callable[[Mapping[str, Any]], Hashable]

_ADAPTERS: dict[type[Event], TypeAdapter[Any]] = {}


def _adapter(kind: type[Event]) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as JSON-safe data (dates ISO, amounts as strings)."""
    data: dict[str, Any] = _adapter(type(event)).dump_python(event, mode="json")
    return data


def event_from_json(event_type: str, payload: Mapping[str, Any]) -> Event:
    """Inverse of :func:`event_to_json` for the event type named ``event_type``."""
    event: Event = _adapter(EVENT_TYPES[event_type]).validate_python(dict(payload))
    return event


def event_key(event: Event) -> str:
    """SM3 of the event's type and content: the same event always has the same key."""
    body = _adapter(type(event)).dump_json(event)
    return sm3_hex(type(event).__name__.encode() + b":" + body)


def handler_name(handler: Handler) -> str:
    """How a deferred handler is named in ``flow_events`` (its module and function)."""
    return f"{handler.__module__}.{handler.__qualname__}"


class MessageBus:
    def __init__(self, *, handlers: Mapping[type[Event], Sequence[Handler]],
                 deferred: Mapping[type[Event], Sequence[Handler]],
                 coalesce: Mapping[Handler, CoalesceKey] | None = None) -> None:
        self.handlers, self.deferred = handlers, deferred
        self._by_name = {handler_name(h): h for hs in deferred.values() for h in hs}
        self._coalesce = {handler_name(h): key for h, key in (coalesce or {}).items()}

    def publish(self, session: Session, events: Sequence[Event], /) -> list[Event]:
        """Handle ``events`` and their follow-ups breadth first in ``session`` (atomic
        handlers now, deferred ones queued); returns every event handled, in order."""
        queue = deque(events)
        handled: list[Event] = []
        while queue:
            event = queue.popleft()
            handled.append(event)
            for handler in self.handlers.get(type(event), ()):
                queue.extend(handler(session, event) or ())
            for handler in self.deferred.get(type(event), ()):
                self._queue(session, event, handler_name(handler))
        session.flush()
        return handled

    def handle_deferred(self, session: Session, row: FlowEventRow) -> list[Event]:
        """Run the deferred handler ``row`` names on its event, then publish what it returns
        (in ``session``; the worker commits). Returns the follow-up events handled."""
        event = event_from_json(row.event_type, row.payload)
        follow = self._by_name[row.handler](session, event) or ()
        return self.publish(session, list(follow))

    def covered(self, session: Session, row: FlowEventRow) -> list[FlowEventRow]:
        """The other pending rows that running ``row``'s handler now handles too (its handler
        is coalesced, they were published at the same moment and give the same key), locked
        (rows another worker holds are left to it). Called before the handler runs, so their
        data, committed with them, is there when it runs."""
        key = self._coalesce.get(row.handler)
        if key is None:
            return []
        mine = key(row.payload)
        return [other for other in session.scalars(
            select(FlowEventRow).where(
                FlowEventRow.handler == row.handler, FlowEventRow.status == "pending",
                FlowEventRow.published_at == row.published_at, FlowEventRow.id != row.id)
            .order_by(FlowEventRow.id).with_for_update(skip_locked=True))
            if key(other.payload) == mine]

    @staticmethod
    def _queue(session: Session, event: Event, handler: str) -> None:
        key = event_key(event)
        if session.scalar(select(FlowEventRow.id).where(
                FlowEventRow.handler == handler, FlowEventRow.event_key == key)) is not None:
            return  # queued (or handled) already: an event is handled once per handler
        session.add(FlowEventRow(
            event_type=type(event).__name__, event_key=key, handler=handler,
            payload=event_to_json(event), published_at=event.at, status="pending",
            attempts=0, next_attempt_at=event.at))


__all__ = ["CoalesceKey", "Handler", "MessageBus", "event_from_json", "event_key", "event_to_json",
           "handler_name"]

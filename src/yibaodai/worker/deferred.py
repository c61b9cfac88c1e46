"""Running deferred handlers: each pending ``flow_events`` row is taken with a row lock that
skips rows other workers hold (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer
anyway), its handler runs in that transaction and the row is marked done in it, so each event
is handled once per handler. A handler that fails is rolled back to a savepoint, the attempt
and its error are recorded, and it is retried with back-off; after ``MAX_ATTEMPTS`` the row
is ``dead`` (it stays, with its error, for an operator). Rows a coalesced handler's run covers
(``MessageBus.covered``) are marked done with it, in its transaction; if it fails they stay
pending and are run on their own."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Select, func, select

from yibaodai.db.models import FlowEventRow
from yibaodai.db.session import Database
from yibaodai.flow.bus import MessageBus

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class DeferredRun:
    handled: int = 0
    failed: int = 0
    #: Rows handled by the run of another (``MessageBus.covered``), within ``handled``.
    coalesced: int = 0


def due_events(now: datetime) -> Select[tuple[FlowEventRow]]:
    return select(FlowEventRow).where(FlowEventRow.status == "pending",
                                      FlowEventRow.next_attempt_at <= now)


def next_due(db: Database) -> datetime | None:
    """When the earliest pending deferred event may run (None: nothing pending)."""
    with db.unit_of_work() as session:
        return session.scalar(select(func.min(FlowEventRow.next_attempt_at)).where(
            FlowEventRow.status == "pending"))


def handle_due(db: Database, bus: MessageBus, *, now: datetime, limit: int = 1000,
               stop: threading.Event | None = None) -> DeferredRun:
    """Handle the deferred events due at ``now``, one transaction each."""
    run = DeferredRun()
    while run.handled + run.failed < limit and not (stop is not None and stop.is_set()):
        with db.unit_of_work() as session:
            row = session.scalars(due_events(now).order_by(FlowEventRow.id).limit(1)
                                  .with_for_update(skip_locked=True)).first()
            if row is None:
                break
            row.attempts += 1
            covered = bus.covered(session, row)
            try:
                with session.begin_nested():
                    bus.handle_deferred(session, row)
            except Exception as exc:  # recorded on the row and retried; never lost
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.status = "dead" if row.attempts >= MAX_ATTEMPTS else "pending"
                row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
                run.failed += 1
                log.warning("flow.deferred_failed", id=row.id, handler=row.handler,
                            error=row.last_error)
            else:
                for done in (row, *covered):
                    done.status, done.handled_at, done.last_error = "done", now, None
                run.handled += 1 + len(covered)
                run.coalesced += len(covered)
            session.commit()
    return run

"""Delivering the outbox: claim due rows, send each through its connector, record the result,
publish what happened.

* **Claims.** Due rows are claimed in a short transaction (``SELECT ... FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, so concurrent dispatchers take different rows; SQLite has one writer
  anyway): the row gets ``claimed_by`` and ``claimed_until``. The send happens with no
  transaction open (a receiver may be slow). Recording the attempt clears ``claimed_until``;
  ``claimed_by`` stays, naming the dispatcher that tried last. A dispatcher that dies mid-send
  leaves its claim to expire; the row is then sent again under the same idempotency key,
  which the receiver answers with its first answer.
* **Results.** A delivery marks the row ``sent`` and publishes ``MessageDelivered`` in the
  same transaction (the cases mark a whitelist entry reported through it); a failure counts
  the attempt and backs off exponentially with jitter (``backoff``); after ``MAX_ATTEMPTS``
  the row is a dead letter and ``DeliveryFailed`` is published. A branch administrator sends
  a dead letter again from the platform, with a reason (``outbound.admin.retry``).
* **Handlers of a delivery.** ``MessageDelivered`` is handled in the transaction that marks
  the row sent. When one of its handlers fails, that transaction is rolled back and the
  attempt is counted as a failure like a failed send (``last_error`` starts with
  ``HANDLER_FAILED``): the row backs off, is sent again under the same idempotency key (the
  receiver gives its first answer again) and, after ``MAX_ATTEMPTS``, is a dead letter on
  the outbox page, which an administrator retries once the cause is mended. Before this, the
  row stayed pending with its claim, was resent whenever the claim ran out and never
  counted an attempt: it was retried for ever and never dead-lettered.
* **Stopping.** ``stop`` is checked between rows: a send in progress finishes and is
  recorded; rows claimed but not yet sent are released at once.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from yibaodai.clock import Clock
from yibaodai.db.models import OutboxRow
from yibaodai.db.session import Database
from yibaodai.domain.events import DeliveryFailed, MessageDelivered, Publish
from yibaodai.outbound.connector import Connector, Endpoint

log = structlog.get_logger(__name__)

#: Attempts before a message is a dead letter. With the waits below that is at most 7.4 hours
#: of trying and 3.7 on average (``tests/unit/test_backoff.py`` measures it), so a receiver
#: down for a morning misses nothing; a longer outage ends in the dead-letter list, and a
#: branch administrator sends those again from the platform.
MAX_ATTEMPTS = 16
#: How ``last_error`` begins when the send succeeded but a handler of the delivery failed.
HANDLER_FAILED = "handler: "
#: How long a claim holds: well above the connector's HTTP timeout.
CLAIM_FOR = timedelta(seconds=120)
CLAIM_BATCH = 20
#: The shortest and the longest wait between two attempts.
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)


def backoff_ceiling(attempts: int) -> timedelta:
    """The longest wait after the ``attempts``-th failure: 10 s, 20 s, 40 s ... an hour."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(attempts, 0), 20)))


def backoff(attempts: int, *, key: str) -> timedelta:
    """Wait after the ``attempts``-th failure of the message ``key``: "full jitter", a
    uniform draw between ``BACKOFF_BASE`` and ``backoff_ceiling(attempts)``, so the rows that
    failed together (a receiver down) do not all come back in the same second. The draw is
    seeded from the key and the attempt: the same row waits the same on every worker and in
    every test run."""
    ceiling = backoff_ceiling(attempts).total_seconds()
    floor = min(BACKOFF_BASE.total_seconds(), ceiling)
    draw = random.Random(f"{key}#{attempts}").uniform(floor, ceiling)
    return timedelta(seconds=round(draw, 3))


def due_rows(now: datetime) -> Select[tuple[OutboxRow]]:
    """Rows that may be sent at ``now``: pending, due, and not claimed by a live dispatcher."""
    return select(OutboxRow).where(
        OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now,
        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now))


class Dispatcher:
    def __init__(self, *, db: Database, clock: Clock, connector: Connector,
                 endpoints: dict[str, Endpoint], publish: Publish, holder: str,
                 claim_for: timedelta = CLAIM_FOR) -> None:
        """``endpoints``: receiver by outbox destination; rows for a destination with no
        endpoint stay pending. ``holder``: this dispatcher's name on its claims;
        ``claim_for``: how long they hold (longer than the connector's timeout, so a slow
        send is never taken over while it may still succeed)."""
        self.db, self.clock, self.connector = db, clock, connector
        self.endpoints, self.publish, self.holder = endpoints, publish, holder
        self.claim_for = claim_for

    def close(self) -> None:
        self.connector.close()

    def dispatch_due(self, *, limit: int = 1000, stop: threading.Event | None = None) -> int:
        """Deliver what is due now (at most ``limit`` rows tried); returns how many were
        delivered."""
        delivered = tried = 0
        while tried < limit and not (stop is not None and stop.is_set()):
            claimed = self._claim(self.clock.now(), min(CLAIM_BATCH, limit - tried))
            if not claimed:
                break
            for n, row_id in enumerate(claimed):
                if stop is not None and stop.is_set():
                    self._release(claimed[n:])
                    break
                delivered += self._deliver(row_id)
                tried += 1
        return delivered

    def _claim(self, now: datetime, batch: int) -> list[int]:
        with self.db.unit_of_work() as session:
            query = due_rows(now).where(OutboxRow.destination.in_(sorted(self.endpoints)))
            rows = session.scalars(query.order_by(OutboxRow.id).limit(batch)
                                   .with_for_update(skip_locked=True)).all()
            for row in rows:
                row.claimed_by, row.claimed_until = self.holder, now + self.claim_for
            session.commit()
            return [row.id for row in rows]

    def _release(self, row_ids: list[int]) -> None:
        with self.db.unit_of_work() as session:
            for row_id in row_ids:
                row = session.get(OutboxRow, row_id)
                if row is not None and row.claimed_by == self.holder:
                    row.claimed_until = None
            session.commit()

    def _deliver(self, row_id: int) -> bool:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.status != "pending" or row.claimed_by != self.holder:
                return False
            kind, key, payload = row.kind, row.idempotency_key, dict(row.payload)
            endpoint = self.endpoints[row.destination]
        try:
            answer = self.connector.send(endpoint, kind=kind, idempotency_key=key,
                                         message_no=row_id, payload=payload, now=now)
        except Exception as exc:  # every failure is retried; the row keeps the reason
            self._record_failure(row_id, f"{type(exc).__name__}: {exc}"[:2000], now)
            return False
        in_handler = False
        try:
            with self.db.unit_of_work() as session:
                row = session.get(OutboxRow, row_id)
                if row is None or row.status != "pending":
                    return False  # another dispatcher, whose claim outlived ours, recorded it
                row.attempts += 1
                row.status, row.sent_at, row.response = "sent", now, answer
                row.claimed_by, row.claimed_until = self.holder, None  # who sent it stays
                in_handler = True
                self.publish(session, [MessageDelivered(
                    at=now, outbox_id=row.id, destination=row.destination, kind=kind,
                    idempotency_key=key, payload=payload, answer=answer)])
                in_handler = False
                session.commit()
        except Exception as exc:  # rolled back: counted as a failed attempt, never resent
            # for ever under a claim that runs out (module docstring)
            prefix = HANDLER_FAILED if in_handler else ""
            self._record_failure(row_id, f"{prefix}{type(exc).__name__}: {exc}"[:2000], now)
            log.exception("outbox.record_failed", id=row_id, kind=kind, in_handler=in_handler)
            return False
        log.info("outbox.sent", id=row_id, kind=kind, destination=endpoint.party)
        return True

    def _record_failure(self, row_id: int, error: str, now: datetime) -> None:
        with self.db.unit_of_work() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            row.last_error = error
            row.claimed_until = None
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "dead"
                self._dead_letter(session, row, now)
            else:
                row.next_attempt_at = now + backoff(row.attempts, key=row.idempotency_key)
            session.commit()
        log.warning("outbox.retry", id=row_id, error=error)

    def _dead_letter(self, session: Session, row: OutboxRow, now: datetime) -> None:
        self.publish(session, [DeliveryFailed(
            at=now, outbox_id=row.id, destination=row.destination, kind=row.kind,
            idempotency_key=row.idempotency_key, attempts=row.attempts,
            error=row.last_error or "")])


__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "HANDLER_FAILED", "MAX_ATTEMPTS", "Dispatcher", "backoff",
           "backoff_ceiling", "due_rows"]

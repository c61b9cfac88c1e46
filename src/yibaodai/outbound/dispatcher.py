"""Delivers outbox rows: sealed envelope over HTTP, idempotency key = the row's key (the
receiver answers a repeat with its first answer), exponential back-off, dead letter after
``MAX_ATTEMPTS``. Success effects (e.g. a case becoming 'reported') commit with the status."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.cases.service import mark_reported
from yibaodai.clock import Clock
from yibaodai.db.models import OutboxRow
from yibaodai.db.session import Database
from yibaodai.outbound.outbox import (
    BUREAU,
    HEAD_OFFICE,
    KIND_ADMISSION_RESULT,
    KIND_WHITELIST_ENTRY,
)
from yibaodai.protocol.envelope import open_response, seal_request
from yibaodai.protocol.keys import KeyRing

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
BANK_SENDER_CODE = "B21020000001"
INFNO_FOR_KIND = {KIND_ADMISSION_RESULT: "8901", KIND_WHITELIST_ENTRY: "8501"}


@dataclass(frozen=True)
class Endpoint:
    url: str
    party: str


class Dispatcher:
    def __init__(self, *, db: Database, clock: Clock, keyring: KeyRing,
                 endpoints: dict[str, Endpoint], timeout: float = 10.0) -> None:
        self.db, self.clock, self.keyring, self.endpoints = db, clock, keyring, endpoints
        self._client = httpx.Client(timeout=timeout)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.on_success: dict[str, Callable[[Session, OutboxRow, dict[str, Any]], None]] = {
            KIND_WHITELIST_ENTRY: self._whitelist_reported,
        }

    def close(self) -> None:
        self._client.close()

    def dispatch_due(self, limit: int = 200) -> int:
        """Deliver what is due now; returns how many were delivered."""
        with self._lock:
            now = self.clock.now()
            with self.db.unit_of_work() as session:
                due = session.scalars(select(OutboxRow.id).where(
                    OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now
                ).order_by(OutboxRow.id).limit(limit)).all()
            return sum(self._deliver(row_id) for row_id in due)

    def _deliver(self, row_id: int) -> bool:
        """Read the row, send without holding a transaction (the peer may be slow), then
        record the result. A crash after sending resends later under the same idempotency
        key, which the receiver answers with its first answer."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.status != "pending":
                return False
            kind, key, payload = row.kind, row.idempotency_key, dict(row.payload)
            endpoint = self.endpoints[row.destination]
        try:
            envelope = seal_request(
                infno=INFNO_FOR_KIND[kind], input={"data": [payload]},
                sender_code=BANK_SENDER_CODE, fixmedins_code=payload["fixmedins_code"],
                fixmedins_name=payload.get("fixmedins_name") or "-", area="210200",
                keyring=self.keyring, peer_key_id=self.keyring.peer_key_ids[endpoint.party],
                now=now, seq=next(self._seq) % 10_000, sign_no=key[:30])
            http = self._client.post(endpoint.url, json=envelope,
                                     headers={"Idempotency-Key": key})
            http.raise_for_status()
            answer = open_response(http.content, keyring=self.keyring)
            if answer.infcode != 0:
                raise RuntimeError(f"infcode {answer.infcode}: {answer.err_msg}")
        except Exception as exc:  # every failure is retried; the row keeps the reason
            self._record_failure(row_id, f"{type(exc).__name__}: {exc}"[:2000], now)
            return False
        with self.db.unit_of_work() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.status != "pending":
                return False  # another dispatcher recorded it first
            row.attempts += 1
            row.status, row.sent_at, row.response = "sent", now, answer.output
            callback = self.on_success.get(row.kind)
            if callback:
                callback(session, row, answer.output)
            session.commit()
        log.info("outbox.sent", id=row_id, kind=kind, destination=endpoint.party)
        return True

    def _record_failure(self, row_id: int, error: str, now: datetime) -> None:
        with self.db.unit_of_work() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "dead"
            else:
                row.next_attempt_at = now + timedelta(seconds=min(3600, 5 * 2**row.attempts))
            session.commit()
            log.warning("outbox.retry", id=row_id, attempts=row.attempts, error=error)

    @staticmethod
    def _whitelist_reported(session: Session, row: OutboxRow, output: dict[str, Any]) -> None:
        mark_reported(session, case_id=int(row.payload["case_id"]), now=row.sent_at or
                      row.created_at, ack=output)


__all__ = ["BUREAU", "HEAD_OFFICE", "Dispatcher", "Endpoint"]

"""The quarantine, bounded (issue 14: "40 anonymous junk posts wrote 40 rows, 2.6 MB, with
no bound").

Three bounds, each for a reason:

- **per-source rate**: anyone who can reach the port can post; refusals of messages whose
  signature did not verify (*anonymous*) are recorded at most ``rate`` per source address
  (``rate`` in the ``limits`` library's notation, e.g. ``20/minute``), the rest only counted
  in the log. The window moves on the gateway's injected clock (the time of each refusal),
  not on the wall clock (:class:`MovingWindow`): the demo's simulated time and the tests move
  it, and the same clock dates the rows;
- **size cap per stored body**: an anonymous body is kept up to ``anonymous_body_chars``
  (enough to see what it was), a peer's up to ``body_chars``; every row keeps the length and
  SM3 of the whole body, so what was cut can still be matched with the sender's copy;
- **retention** (:func:`prune`, run by the weekly retention job): anonymous rows go after
  ``ANONYMOUS_DAYS``; a peer's rows lose their body after ``BODY_DAYS`` but keep their record.

A refusal of a message from an authenticated peer (signature verified) is never dropped: over
the rate it is recorded without its body (the small record: time, msgid, reason, length,
SM3), since the bureau may later ask why a message of theirs was refused; a copy of a body
already on record is not recorded again over the rate (a captured message replayed by
someone else, e.g. after its window)."""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime, timedelta

import structlog
from limits import parse
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from yibaodai.db.models import QuarantineRow
from yibaodai.protocol.sm3 import sm3_hex

log = structlog.get_logger(__name__)

ANONYMOUS_DAYS = 30
BODY_DAYS = 180


def clean(text: str) -> str:
    """Text safe to encode as UTF-8 and to store in PostgreSQL (no lone surrogates, no NUL)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


class MovingWindow:
    """At most ``amount`` hits per key within any ``period``, counted on the times the caller
    gives (its injected clock); a refused hit is not counted. Thread-safe (the gateway opens
    messages on a pool). At most ``max_keys`` keys are remembered: past that, keys with no hit
    inside the window are forgotten first, then the least recently hit ones."""

    def __init__(self, amount: int, period: timedelta, *, max_keys: int = 10_000) -> None:
        if amount < 1 or period <= timedelta(0):
            raise ValueError("a moving window needs amount >= 1 and a positive period")
        self.amount, self.period, self.max_keys = amount, period, max_keys
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> bool:
        """Count one hit for ``key`` at ``now``; False (not counted) when the window is full."""
        cutoff = now - self.period
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget(cutoff)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= cutoff:
                hits.popleft()
            if len(hits) >= self.amount:
                return False
            hits.append(now)
            return True

    def _forget(self, cutoff: datetime) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= cutoff]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:
            del self._hits[min(self._hits, key=lambda k: self._hits[k][-1])]


class QuarantineBound:
    """Decides what of one refusal is stored. One per gateway (per peer endpoint)."""

    def __init__(self, *, rate: str = "20/minute", anonymous_body_chars: int = 2048,
                 body_chars: int = 65_536) -> None:
        limit = parse(rate)
        self._window = MovingWindow(limit.amount, timedelta(seconds=limit.get_expiry()))
        self.anonymous_body_chars, self.body_chars = anonymous_body_chars, body_chars

    def row(self, *, body: bytes, msgid: str | None, reason: dict[str, object], code: str,
            now: datetime, authenticated: bool, source: str | None) -> QuarantineRow | None:
        """The row to store for this refusal, or None (an anonymous one over the rate).
        ``now``: the gateway's clock; it also moves the rate's window."""
        within = self._window.hit(source or "-", now)
        if not within and not authenticated:
            log.warning("gateway.quarantine_rate", source=source, code=code, bytes=len(body))
            return None
        cap = self.body_chars if authenticated else self.anonymous_body_chars
        kept = clean(body[:cap].decode("utf-8", errors="replace"))[:cap] if within else ""
        return QuarantineRow(
            received_at=now, msgid=msgid, reason_code=code,
            reason=json.dumps(reason, ensure_ascii=False)[:10_000 if authenticated else 2_000],
            body=kept, authenticated=authenticated, source=(source or "")[:64] or None,
            body_bytes=len(body), body_sm3=sm3_hex(body))


def prune(session: Session, *, now: datetime) -> dict[str, int]:
    """Retention of the quarantine (inside the caller's transaction): anonymous rows older
    than ``ANONYMOUS_DAYS`` deleted, peers' bodies older than ``BODY_DAYS`` dropped (their
    record kept)."""
    deleted = session.execute(delete(QuarantineRow).where(
        QuarantineRow.authenticated.is_(False),
        QuarantineRow.received_at < now - timedelta(days=ANONYMOUS_DAYS)))
    emptied = session.execute(update(QuarantineRow).where(
        QuarantineRow.authenticated.is_(True), QuarantineRow.body != "",
        QuarantineRow.received_at < now - timedelta(days=BODY_DAYS)).values(body=""))
    return {"anonymous_deleted": int(getattr(deleted, "rowcount", 0) or 0),
            "bodies_dropped": int(getattr(emptied, "rowcount", 0) or 0)}


__all__ = ["ANONYMOUS_DAYS", "BODY_DAYS", "MovingWindow", "QuarantineBound", "clean", "prune"]

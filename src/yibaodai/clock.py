"""The one clock. Every time-dependent function takes a ``Clock`` so tests and the demo move
time forward instead of sleeping. Times are timezone-aware, Asia/Shanghai."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """Wall-clock time in Asia/Shanghai."""

    def now(self) -> datetime:
        return datetime.now(SHANGHAI)

    def today(self) -> date:
        return self.now().date()


class SimulatedClock:
    """A clock that only moves when told to; thread-safe because the demo's servers share it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=SHANGHAI)
        self._now = start.astimezone(SHANGHAI)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def today(self) -> date:
        return self.now().date()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time never moves backwards")
        with self._lock:
            self._now = self._now + delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump forward to ``moment`` (never backwards)."""
        moment = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
        return self.advance(moment.astimezone(SHANGHAI) - self.now())

"""When a scheduled job is due next, from when it last succeeded (pure; times in
Asia/Shanghai). A job that never ran is due at once, so a fresh installation sweeps,
monitors and applies retention on its first tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from yibaodai.clock import SHANGHAI


class Schedule(Protocol):
    def next_after(self, last: datetime) -> datetime:
        """The first moment the job is due after a successful run started at ``last``."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Every:
    interval: timedelta

    def next_after(self, last: datetime) -> datetime:
        return last + self.interval

    def describe(self) -> str:
        return f"every {int(self.interval.total_seconds())} s"


def _at(day: datetime, at: time) -> datetime:
    return datetime.combine(day.date(), at, SHANGHAI)


@dataclass(frozen=True)
class Monthly:
    """On ``day`` (1-28, so every month has it) at ``at``."""

    day: int
    at: time

    def __post_init__(self) -> None:
        if not 1 <= self.day <= 28:
            raise ValueError("monthly jobs run on day 1..28")

    def next_after(self, last: datetime) -> datetime:
        last = last.astimezone(SHANGHAI)
        slot = _at(last.replace(day=self.day), self.at)
        if slot > last:
            return slot
        year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
        return _at(last.replace(year=year, month=month, day=self.day), self.at)

    def describe(self) -> str:
        return f"monthly on day {self.day} at {self.at:%H:%M}"


@dataclass(frozen=True)
class Weekly:
    """On ``weekday`` (0 = Monday .. 6 = Sunday) at ``at``."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) .. 6 (Sunday)")

    def next_after(self, last: datetime) -> datetime:
        last = last.astimezone(SHANGHAI)
        slot = _at(last + timedelta(days=(self.weekday - last.weekday()) % 7), self.at)
        return slot if slot > last else slot + timedelta(days=7)

    def describe(self) -> str:
        return f"weekly on {['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][self.weekday]} " \
               f"at {self.at:%H:%M}"

"""The dashboard's answers kept per data scope, each with what it was computed under: the data
version (``db.changes``), the day, and the stretch of clock it holds for.

Every viewer with the same scope (all branch roles; the staff of one sub-branch) sees the
same dashboard, and computing it is the platform's heaviest read. An answer is served again
only when the data version read now equals the one read before it was computed, the day is
the same, and the clock is between the moment it was computed and its ``holds_until``: that
answer is then exactly what computing again would give, so no figure is ever stale, however
the data changed and whichever process changed it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from yibaodai.db.changes import Version

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    value: T
    version: Version
    today: date
    computed_at: datetime
    #: The answer holds for every clock up to and including this (None: with no end).
    holds_until: datetime | None

    def serves(self, *, version: Version, now: datetime, today: date) -> bool:
        return (version == self.version and today == self.today and self.computed_at <= now
                and (self.holds_until is None or now <= self.holds_until))


class DashboardCache(Generic[T]):
    """At most ``size`` scopes' answers (the least recently used goes first); safe to share
    between the server's threads."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Entry[T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, *, version: Version, now: datetime, today: date) -> T | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.serves(version=version, now=now, today=today):
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, entry: Entry[T]) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

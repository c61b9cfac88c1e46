"""The Chinese working-day calendar used for SLA deadlines (时效).

Pure domain code: no I/O and no clock reads; callers pass the times in.

Deadline rule (the bank's SLA rule)
-----------------------------------
A deadline of ``N`` working days (``N >= 1``) from an event at time ``t`` is the **end of the N-th
working day after t's calendar date**, i.e. ``23:59:59.999999`` Asia/Shanghai on that day:

* ``t`` is first converted to Asia/Shanghai; its date is the day of the event.
* The event's own day never counts, whatever the hour: an event at 16:00 (or at 08:00) on a working
  Monday with ``N = 2`` is due by the end of Wednesday.
* An event on a holiday or a weekend day off starts counting from the next working day: a case
  assigned on Friday 2026-09-25 (Mid-Autumn Festival, off until Sunday 09-27) with ``N = 2`` is due
  by the end of Tuesday 2026-09-29 (Mon 09-28 is day 1, Tue 09-29 is day 2).
* The deadline itself is inclusive: something done at ``23:59:59.999999`` on the due day is on
  time; one microsecond later it is late.

Because a deadline is always the end of a working day, deadlines compose exactly:
``add_working_days(t, a + b) == add_working_days(add_working_days(t, a), b)`` for ``a, b >= 1``.

Working days
------------
A day is a working day when, in order of precedence:

1. the bank's ``extra_holidays`` table lists it (``True`` = working day, ``False`` = day off) —
   this lets the bank enter next year's official State Council notice (国务院办公厅节假日安排)
   before the ``chinese_calendar`` package is updated;
2. otherwise, when ``chinese_calendar`` covers its year: the package's answer (public holidays
   off, make-up working days 调休 on weekends on);
3. otherwise (years the package does not cover, e.g. 2027 with chinese_calendar 1.11): Monday to
   Friday. This fallback never crashes, but it is not silent: :meth:`coverage_warning` returns a
   bilingual message for such dates so callers can show/log it next to the deadline.

A year counts as covered when the package covers it, or when the extra table has at least one
entry in that year (the bank enters a year's official notice as a whole, holidays and make-up days
together; Monday-Friday is then right for every other day of that year).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import chinese_calendar

from yibaodai.clock import SHANGHAI

_END_OF_DAY = time(23, 59, 59, 999999)


def _package_covers_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def end_of_day(d: date) -> datetime:
    """``23:59:59.999999`` Asia/Shanghai on ``d``."""
    return datetime.combine(d, _END_OF_DAY, tzinfo=SHANGHAI)


def to_shanghai(moment: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai; naive datetimes are refused (ValueError)."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"需要带时区的时间，收到无时区时间 {moment.isoformat()} / "
            f"timezone-aware datetime required, got naive {moment.isoformat()}"
        )
    return moment.astimezone(SHANGHAI)


class WorkingDayCalendar:
    """Chinese working days from ``chinese_calendar``, with a bank-maintained override table and
    a documented Monday-Friday fallback for years the package does not cover (see module doc)."""

    def __init__(self, extra_holidays: Mapping[date, bool] | None = None) -> None:
        extra = dict(extra_holidays or {})
        for key, value in extra.items():
            if isinstance(key, datetime) or not isinstance(key, date):
                raise TypeError(f"extra_holidays keys must be dates, got {key!r}")
            if not isinstance(value, bool):
                raise TypeError(f"extra_holidays[{key}] must be bool (True = working day)")
        self._extra: dict[date, bool] = extra
        self._extra_years: frozenset[int] = frozenset(d.year for d in extra)
        self._package_years: dict[int, bool] = {}

    def _package_covers(self, year: int) -> bool:
        covered = self._package_years.get(year)
        if covered is None:
            covered = _package_covers_year(year)
            self._package_years[year] = covered
        return covered

    def covers(self, d: date) -> bool:
        """True when ``d``'s year is known from the package or from the bank's extra table."""
        return d.year in self._extra_years or self._package_covers(d.year)

    def coverage_warning(self, d: date) -> str | None:
        """A bilingual warning (Chinese first) when ``d`` is counted by the Monday-Friday
        fallback; None when the calendar covers ``d``."""
        if self.covers(d):
            return None
        return (
            f"节假日日历未覆盖{d.year}年，按周一至周五计算 / "
            f"holiday calendar does not cover {d.year}; counting Monday-Friday"
        )

    def coverage_warning_between(self, first: date, last: date) -> str | None:
        """The warning for the earliest uncovered year among the days ``first..last``
        (inclusive), e.g. for all the days a deadline was counted over; None if all covered."""
        for year in range(first.year, last.year + 1):
            probe = max(first, date(year, 1, 1))
            warning = self.coverage_warning(probe)
            if warning is not None:
                return warning
        return None

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day (holidays off, make-up weekend days on)."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date, not a datetime")
        override = self._extra.get(d)
        if override is not None:
            return override
        if self._package_covers(d.year):
            return bool(chinese_calendar.is_workday(d))
        return d.weekday() < 5

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        day = d + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End (23:59:59.999999 Asia/Shanghai) of the ``days``-th working day after ``start``'s
        date in Asia/Shanghai; ``start`` must be timezone-aware and ``days >= 1``.

        This is the SLA deadline rule described in the module docstring."""
        if days < 1:
            raise ValueError(f"days must be >= 1, got {days}")
        day = to_shanghai(start).date()
        for _ in range(days):
            day = self.next_working_day(day)
        return end_of_day(day)

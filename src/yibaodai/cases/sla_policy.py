"""The SLA policy and working-day calendar as the bank configured them (``Settings.sla_*``,
``Settings.holidays_file``). Every calendar the cases build comes from :func:`bank_calendar`,
so the bank's holiday table applies everywhere (case SLAs, warning-handling deadlines and
escalation, the warning reports), and the structured log says when a deadline was counted
Monday-Friday because no holiday table covers its year: each such deadline logs
``sla.deadline_uncovered`` (:class:`BankCalendar`), and :func:`calendar_warning` tells the API
(``GET /api/sla/calendar``) and the log when coming deadlines will be."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import structlog

from yibaodai.domain.calendar import WorkingDayCalendar, to_shanghai
from yibaodai.domain.sla import SlaPolicy
from yibaodai.errors import ConfigurationError
from yibaodai.settings import Settings

log = structlog.get_logger("yibaodai.sla")

#: How far ahead a deadline can reach from today (2 + 2 working days over a Spring Festival
#: is about 3 weeks); the coverage warning looks at this window.
LOOKAHEAD = timedelta(days=45)


def policy_of(settings: Settings) -> SlaPolicy:
    return SlaPolicy(claim_working_days=settings.sla_claim_working_days,
                     verify_working_days=settings.sla_verify_working_days,
                     penalty_calendar_days=settings.sla_penalty_days)


def _holidays(path: Path) -> dict[date, bool]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        table = {date.fromisoformat(k): v for k, v in raw.items()}
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigurationError("节假日表无法读取", f"holiday table {path} unreadable: {exc}",
                                 code="holidays_file") from exc
    bad = [k for k, v in table.items() if not isinstance(v, bool)]
    if bad:
        raise ConfigurationError("节假日表的值须为 true/false", f"holiday table {path}: values "
                                 f"must be true (working day) or false, not for {bad[:3]}",
                                 code="holidays_file")
    return table


class BankCalendar(WorkingDayCalendar):
    """The working-day calendar the system counts deadlines on. The domain calendar falls
    back to Monday-Friday past the years it knows; this one also says so in the structured
    log when a deadline is counted over such a year, so the fallback is never silent — once
    an hour per uncovered span, not for every deadline (a list page counts one per row).

    That hour is the one exception to the injected clock, on purpose: it throttles log lines
    for the operator reading the log in real time, decides nothing about a case, and the
    deadlines themselves are counted from the ``start`` the caller gives (its clock). Under
    the demo's simulated clock, business days pass in seconds; counting this hour on that
    clock would repeat the line every few seconds."""

    #: Seconds (of ``time.monotonic``, real time) between two log lines about one span.
    REPEAT_AFTER = 3600.0

    def __init__(self, extra_holidays: Mapping[date, bool] | None = None) -> None:
        super().__init__(extra_holidays)
        self._said: dict[str, float] = {}

    def add_working_days(self, start: datetime, days: int) -> datetime:
        due = super().add_working_days(start, days)
        first = to_shanghai(start).date()
        warning = self.coverage_warning_between(first, due.date())
        if warning is not None:
            now = time.monotonic()
            if now - self._said.get(warning, -self.REPEAT_AFTER) >= self.REPEAT_AFTER:
                self._said[warning] = now
                log.warning("sla.deadline_uncovered", start=start.isoformat(),
                            working_days=days, deadline=due.isoformat(), warning=warning)
        return due


@lru_cache(maxsize=8)
def _calendar(path: Path | None) -> BankCalendar:
    return BankCalendar(_holidays(path) if path is not None else None)


def bank_calendar(settings: Settings | None = None) -> BankCalendar:
    """The calendar with the bank's holiday table (none configured: the package's years)."""
    return _calendar(settings.holidays_file if settings is not None else None)


def calendar_warning(cal: WorkingDayCalendar, now: datetime) -> str | None:
    """The bilingual warning when deadlines counted from ``now`` may fall in a year no
    holiday table covers (Monday-Friday used); also logged as ``sla.calendar_uncovered``."""
    today = to_shanghai(now).date()
    warning = cal.coverage_warning_between(today, today + LOOKAHEAD)
    if warning is not None:
        log.warning("sla.calendar_uncovered", today=today.isoformat(), warning=warning)
    return warning

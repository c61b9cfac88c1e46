"""The bank's holiday table and the coverage warning, as every deadline the system counts
uses them (``cases.sla_policy.bank_calendar``): the table decides working days in years the
``chinese_calendar`` package does not know (it covers to 2026), and a deadline counted past
the official calendar says so in the structured log."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from yibaodai.cases.sla_policy import BankCalendar, bank_calendar, calendar_warning
from yibaodai.clock import SHANGHAI
from yibaodai.domain.ews.handling import deadline as warning_deadline
from yibaodai.domain.ews.handling import escalation_due
from yibaodai.domain.sla import claim_deadline
from yibaodai.errors import ConfigurationError
from yibaodai.settings import Settings


def sh(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59, 999999), tzinfo=SHANGHAI)


#: The State Council's notice for 2027 as the bank would enter it before the package knows
#: it (the dates are this test's: New Year's Day on Friday 2027-01-01, the Spring Festival
#: holiday Saturday 02-06 to Sunday 02-14 with make-up working days Sunday 01-31 and Saturday
#: 02-20).
TABLE_2027 = {"2027-01-01": False, "2027-01-31": True,
              **{f"2027-02-{d:02d}": False for d in range(8, 13)}, "2027-02-20": True}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(TABLE_2027), "utf-8")
    return Settings(holidays_file=path)


def test_the_table_decides_working_days_in_a_year_the_package_does_not_cover(
        settings: Settings) -> None:
    cal = bank_calendar(settings)
    # assigned Thursday 2026-12-31; Friday 2027-01-01 is a holiday in the table: day 1 is
    # Monday 01-04, day 2 Tuesday 01-05
    assert claim_deadline(sh(2026, 12, 31), cal) == eod(2027, 1, 5)
    # without the table the fallback counts Friday 01-01: due Monday 01-04
    assert claim_deadline(sh(2026, 12, 31), bank_calendar()) == eod(2027, 1, 4)
    # a make-up Sunday is a working day: assigned Friday 01-29, day 1 is Sunday 01-31
    assert claim_deadline(sh(2027, 1, 29), cal) == eod(2027, 2, 1)
    # the Spring Festival week off: a red warning raised Friday 02-05 is due Monday 02-15
    assert warning_deadline("red", sh(2027, 2, 5), cal) == eod(2027, 2, 15)
    assert warning_deadline("red", sh(2027, 2, 5), bank_calendar()) == eod(2027, 2, 8)


def test_escalation_waits_for_the_holiday_week(settings: Settings) -> None:
    cal = bank_calendar(settings)
    raised = sh(2027, 2, 5)  # red: one working day, the next being Monday 02-15
    assert escalation_due("red", raised, sh(2027, 2, 12, 12), cal, escalated=None) is None
    assert escalation_due("red", raised, sh(2027, 2, 12, 12), bank_calendar(),
                          escalated=None) == "branch"


def test_a_deadline_counted_past_the_calendar_is_logged(settings: Settings) -> None:
    with capture_logs() as logs:
        fresh = BankCalendar()
        due = claim_deadline(sh(2026, 12, 30), fresh)
        claim_deadline(sh(2026, 12, 30, 15), fresh)  # the same span again: said once an hour
    assert due == eod(2027, 1, 1)  # Thursday 12-31, then Friday 01-01 counted Monday-Friday
    uncovered = [e for e in logs if e["event"] == "sla.deadline_uncovered"]
    assert len(uncovered) == 1
    assert "2027" in uncovered[0]["warning"]
    assert uncovered[0]["deadline"] == due.isoformat()
    with capture_logs() as logs:
        claim_deadline(sh(2026, 12, 30), bank_calendar(settings))  # the table covers 2027
        claim_deadline(sh(2026, 6, 1), bank_calendar())  # inside the package's years
    assert [e for e in logs if e["event"] == "sla.deadline_uncovered"] == []


def test_the_screen_warning_looks_ahead_past_the_calendar(settings: Settings) -> None:
    # 2026-12-01 + 45 days reaches 2027: the screen says Monday-Friday will be used
    with capture_logs() as logs:
        warning = calendar_warning(bank_calendar(), sh(2026, 12, 1))
    assert warning is not None and "2027" in warning
    assert warning.index("节假日") < warning.index("holiday")  # Chinese first
    assert [e["event"] for e in logs] == ["sla.calendar_uncovered"]
    # a month earlier the window stays inside 2026; with the table 2027 is covered too
    assert calendar_warning(bank_calendar(), sh(2026, 11, 1)) is None
    assert calendar_warning(bank_calendar(settings), sh(2026, 12, 1)) is None
    # the clock moved a year on, past the table as well
    moved = calendar_warning(bank_calendar(settings), sh(2027, 12, 1))
    assert moved is not None and "2028" in moved


@pytest.mark.parametrize("text", ['{"2027-01-01": "off"}', '["2027-01-01"]', "{", '{"x": true}'])
def test_a_bad_table_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigurationError):
        bank_calendar(Settings(holidays_file=path))

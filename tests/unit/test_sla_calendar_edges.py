"""Edges of the SLA rules and the working-day calendar (domain/calendar.py, domain/sla.py):
times out of order are named in the refusal, equal instants are in order, the calendar's
years are known from the package or the bank's table, and a bad table or a bad call says what
is wrong."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.sla import find_breach

CAL = WorkingDayCalendar()
T = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a working Monday
H = timedelta(hours=1)


@pytest.mark.parametrize(("times", "later", "earlier"), [
    ((T, T - H, None, T), "claimed_at", "assigned_at"),
    ((T, T, T - H, T), "verified_at", "claimed_at"),
    ((T, None, None, T - H), "now", "assigned_at"),
    ((T, T + H, None, T), "now", "claimed_at"),
    ((T, T, T + H, T), "now", "verified_at"),
])
def test_times_out_of_order_are_refused_naming_both(
        times: tuple[datetime, datetime | None, datetime | None, datetime], later: str,
        earlier: str) -> None:
    assigned, claimed, verified, now = times
    with pytest.raises(ValueError, match=rf"^{later} \(.*\) is before {earlier} \(") as info:
        find_breach(assigned_at=assigned, claimed_at=claimed, verified_at=verified, now=now,
                    cal=CAL)
    assert "2026-03-02T" in str(info.value)


def test_verification_without_a_claim_is_refused_in_both_languages() -> None:
    with pytest.raises(ValueError, match="verified_at given without claimed_at / 未认领"):
        find_breach(assigned_at=T, claimed_at=None, verified_at=T, now=T, cal=CAL)


def test_equal_instants_are_in_order() -> None:
    assert find_breach(assigned_at=T, claimed_at=T, verified_at=T, now=T, cal=CAL) is None


def test_the_package_covers_2026_and_not_2027_and_the_table_adds_a_year() -> None:
    assert CAL.covers(date(2026, 12, 31)) and not CAL.covers(date(2027, 1, 1))
    assert CAL.covers(date(2004, 6, 1))
    assert CAL.coverage_warning(date(2026, 6, 1)) is None
    warning = CAL.coverage_warning(date(2027, 3, 1))
    assert warning == ("节假日日历未覆盖2027年，按周一至周五计算 / "
                       "holiday calendar does not cover 2027; counting Monday-Friday")
    bank = WorkingDayCalendar({date(2027, 10, 1): False})
    assert bank.covers(date(2027, 1, 1)) and not bank.covers(date(2028, 1, 1))
    # asked twice, the cached answer is the same
    assert [CAL.covers(date(2027, 5, 5)) for _ in range(2)] == [False, False]
    assert [CAL.covers(date(2026, 5, 5)) for _ in range(2)] == [True, True]


def test_the_warning_between_two_days_looks_at_every_year_from_the_first_day() -> None:
    assert CAL.coverage_warning_between(date(2026, 12, 1), date(2026, 12, 31)) is None
    between = CAL.coverage_warning_between(date(2026, 12, 1), date(2028, 1, 2))
    assert between is not None and "2027" in between and "2028" not in between
    bank = WorkingDayCalendar({date(2027, 10, 1): False})
    later = bank.coverage_warning_between(date(2026, 12, 1), date(2028, 1, 2))
    assert later is not None and "2028" in later
    assert bank.coverage_warning_between(date(2027, 12, 31), date(2027, 12, 31)) is None


def test_january_the_first_off_in_the_table_is_what_decides_2027() -> None:
    # Friday 2027-01-01 in the table as a holiday; Monday-Friday counts the rest of the year
    bank = WorkingDayCalendar({date(2027, 1, 1): False})
    assert not bank.is_working_day(date(2027, 1, 1))
    assert bank.is_working_day(date(2027, 1, 4)) and not bank.is_working_day(date(2027, 1, 2))
    assert CAL.is_working_day(date(2027, 1, 1))  # the fallback: a Friday works


def test_bad_tables_and_bad_calls_say_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="keys must be dates, got datetime"):
        WorkingDayCalendar({datetime(2027, 1, 1): False})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="keys must be dates, got '2027-01-01'"):
        WorkingDayCalendar({"2027-01-01": False})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"extra_holidays\[2027-01-01\] must be bool"):
        WorkingDayCalendar({date(2027, 1, 1): 0})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="takes a date, not a datetime"):
        CAL.is_working_day(T)
    with pytest.raises(ValueError, match="days must be >= 1, got 0"):
        CAL.add_working_days(T, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(T.replace(tzinfo=None), 1)

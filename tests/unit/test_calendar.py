"""Working-day calendar and the SLA deadline rule (yibaodai.domain.calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar

CAL = WorkingDayCalendar()
END = time(23, 59, 59, 999999)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), END, tzinfo=SHANGHAI)


# --- 2026 facts from the package -------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 2, 15) + timedelta(days=i) for i in range(9)])
def test_spring_festival_feb_15_to_23_2026_are_days_off(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 10, 1) + timedelta(days=i) for i in range(7)])
def test_national_day_oct_1_to_7_2026_are_days_off(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 2, 14), date(2026, 9, 20), date(2026, 10, 10)], ids=str)
def test_make_up_weekend_days_2026_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)


def test_an_ordinary_weekend_is_off_and_an_ordinary_weekday_is_on() -> None:
    assert not CAL.is_working_day(date(2026, 3, 7))  # Saturday
    assert not CAL.is_working_day(date(2026, 3, 8))  # Sunday
    assert CAL.is_working_day(date(2026, 3, 9))  # Monday


def test_mid_autumn_friday_sep_25_2026_is_a_day_off() -> None:
    assert date(2026, 9, 25).weekday() == 4
    assert not CAL.is_working_day(date(2026, 9, 25))


def test_next_working_day_skips_the_whole_national_day_holiday() -> None:
    assert CAL.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)  # make-up Saturday


def test_the_package_covers_2004_to_2026_without_warnings() -> None:
    for day in (date(2004, 1, 1), date(2026, 12, 31)):
        assert CAL.covers(day)
        assert CAL.coverage_warning(day) is None


# --- the deadline rule ----------------------------------------------------------------------


def test_monday_16_00_plus_two_working_days_is_due_at_end_of_wednesday() -> None:
    monday = sh(2026, 3, 2, 16, 0)
    assert monday.weekday() == 0
    assert CAL.add_working_days(monday, 2) == eod(2026, 3, 4)


def test_monday_early_morning_counts_the_same_as_monday_afternoon() -> None:
    assert CAL.add_working_days(sh(2026, 3, 2, 0, 0), 2) == eod(2026, 3, 4)


def test_case_assigned_on_mid_autumn_friday_afternoon_is_due_end_of_tuesday_sep_29() -> None:
    # By hand: Fri 09-25, Sat 09-26 and Sun 09-27 are off; Mon 09-28 is working day 1 and
    # Tue 09-29 is working day 2, so the claim is due by 2026-09-29 23:59:59.999999.
    assert [CAL.is_working_day(date(2026, 9, d)) for d in (25, 26, 27, 28, 29)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert CAL.add_working_days(sh(2026, 9, 25, 15, 30), 2) == eod(2026, 9, 29)


def test_deadline_across_national_day_lands_after_the_holiday() -> None:
    assert CAL.add_working_days(sh(2026, 9, 30, 10, 0), 2) == eod(2026, 10, 9)


def test_deadline_counts_the_make_up_saturday() -> None:
    assert CAL.add_working_days(sh(2026, 10, 9, 10, 0), 2) == eod(2026, 10, 12)


def test_input_in_another_zone_is_counted_on_its_shanghai_date() -> None:
    # 16:30 UTC on Monday is 00:30 on Tuesday in Shanghai -> Wed, Thu -> end of Thursday.
    assert CAL.add_working_days(datetime(2026, 3, 2, 16, 30, tzinfo=UTC), 2) == eod(2026, 3, 5)


def test_result_is_in_shanghai_time() -> None:
    result = CAL.add_working_days(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 1)
    assert result.tzinfo == SHANGHAI


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(datetime(2026, 3, 2, 16, 0), 2)


@pytest.mark.parametrize("days", [0, -1])
def test_zero_or_negative_working_days_are_refused(days: int) -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(sh(2026, 3, 2, 16, 0), days)


# --- beyond the package: Monday-Friday fallback with a warning -------------------------------


def test_2027_is_not_covered_and_falls_back_to_monday_to_friday() -> None:
    assert not CAL.covers(date(2027, 1, 1))
    # 2027-01-01 is a Friday (in reality New Year's Day): the fallback counts it as working.
    assert CAL.is_working_day(date(2027, 1, 1))
    assert not CAL.is_working_day(date(2027, 1, 2))
    assert not CAL.is_working_day(date(2027, 1, 3))
    assert CAL.is_working_day(date(2027, 1, 4))


def test_2027_dates_carry_a_bilingual_coverage_warning_chinese_first() -> None:
    warning = CAL.coverage_warning(date(2027, 6, 1))
    assert warning == (
        "节假日日历未覆盖2027年，按周一至周五计算 / "
        "holiday calendar does not cover 2027; counting Monday-Friday"
    )


def test_years_before_2004_also_fall_back_with_a_warning() -> None:
    assert not CAL.covers(date(2003, 12, 31))
    assert CAL.coverage_warning(date(2003, 12, 31)) is not None
    assert CAL.is_working_day(date(2003, 12, 31))  # a Wednesday


def test_deadline_running_into_2027_uses_the_fallback_and_the_span_is_warned() -> None:
    start = sh(2026, 12, 31, 10, 0)  # Thursday
    due = CAL.add_working_days(start, 2)
    assert due == eod(2027, 1, 4)  # Fri 01-01 (fallback) and Mon 01-04
    assert CAL.coverage_warning_between(start.date(), due.date()) is not None
    assert "2027" in (CAL.coverage_warning_between(start.date(), due.date()) or "")
    assert CAL.coverage_warning_between(date(2026, 1, 1), date(2026, 12, 31)) is None


# --- the bank's extra table ------------------------------------------------------------------


def test_extra_table_adds_next_years_holidays_and_removes_the_warning() -> None:
    cal = WorkingDayCalendar(extra_holidays={date(2027, 1, 1): False})
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.covers(date(2027, 3, 1))
    assert cal.coverage_warning(date(2027, 3, 1)) is None
    assert cal.add_working_days(sh(2026, 12, 31, 10, 0), 2) == eod(2027, 1, 5)


def test_extra_table_can_make_a_weekend_day_a_working_day() -> None:
    cal = WorkingDayCalendar(extra_holidays={date(2027, 2, 6): True})  # a Saturday
    assert cal.is_working_day(date(2027, 2, 6))


def test_extra_table_overrides_the_package_inside_covered_years() -> None:
    cal = WorkingDayCalendar(extra_holidays={date(2026, 9, 28): False, date(2026, 9, 26): True})
    assert not cal.is_working_day(date(2026, 9, 28))
    assert cal.is_working_day(date(2026, 9, 26))
    assert cal.add_working_days(sh(2026, 9, 25, 15, 0), 2) == eod(2026, 9, 29)
    assert CAL.is_working_day(date(2026, 9, 28))  # the default calendar is unchanged


def test_extra_table_refuses_non_date_keys_and_non_bool_values() -> None:
    with pytest.raises(TypeError):
        WorkingDayCalendar(extra_holidays={datetime(2027, 1, 1): False})
    with pytest.raises(TypeError):
        WorkingDayCalendar(extra_holidays={date(2027, 1, 1): 0})  # type: ignore[dict-item]


# --- properties ------------------------------------------------------------------------------

ZONES = st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
MOMENTS = st.datetimes(
    min_value=datetime(2004, 1, 2), max_value=datetime(2027, 11, 30), timezones=ZONES
)
DAYS = st.integers(min_value=1, max_value=30)


@given(start=MOMENTS, days=DAYS)
def test_deadline_is_always_after_the_start(start: datetime, days: int) -> None:
    assert CAL.add_working_days(start, days) > start


@given(start=MOMENTS, days=DAYS)
def test_deadline_is_the_end_of_a_working_day_in_shanghai(start: datetime, days: int) -> None:
    due = CAL.add_working_days(start, days)
    assert due.tzinfo == SHANGHAI
    assert due.time() == END
    assert CAL.is_working_day(due.date())


@given(start=MOMENTS, days=DAYS)
def test_deadline_has_exactly_n_working_days_after_the_start_date(
    start: datetime, days: int
) -> None:
    first = start.astimezone(SHANGHAI).date()
    last = CAL.add_working_days(start, days).date()
    span = [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
    assert sum(CAL.is_working_day(d) for d in span) == days


@given(a=MOMENTS, b=MOMENTS, days=DAYS)
def test_deadline_is_monotonic_in_the_start_time(a: datetime, b: datetime, days: int) -> None:
    early, late = sorted((a, b))
    assert CAL.add_working_days(early, days) <= CAL.add_working_days(late, days)


@given(start=MOMENTS, a=DAYS, b=DAYS)
def test_adding_a_then_b_working_days_equals_adding_a_plus_b(
    start: datetime, a: int, b: int
) -> None:
    # Holds exactly because every deadline is the end of a working day: counting b more
    # working days from it continues the same count.
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(
        start, a + b
    )

"""When scheduled jobs are due: monthly, weekly and fixed intervals, in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.worker.schedules import Every, Monthly, Weekly


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_a_monthly_job_that_ran_after_this_months_slot_is_due_next_month() -> None:
    schedule = Monthly(1, time(6))
    assert schedule.next_after(_at(2026, 9, 1, 9, 0)) == _at(2026, 10, 1, 6, 0)
    assert schedule.next_after(_at(2026, 12, 20, 0, 0)) == _at(2027, 1, 1, 6, 0)


def test_a_monthly_job_that_ran_before_this_months_slot_is_due_this_month() -> None:
    assert Monthly(15, time(6)).next_after(_at(2026, 9, 1, 9, 0)) == _at(2026, 9, 15, 6, 0)


def test_a_weekly_job_is_due_on_its_weekday_and_never_at_the_moment_it_ran() -> None:
    sunday_2am = Weekly(6, time(2))
    assert sunday_2am.next_after(_at(2026, 11, 9, 9, 0)) == _at(2026, 11, 15, 2, 0)  # Monday
    assert sunday_2am.next_after(_at(2026, 11, 15, 2, 0)) == _at(2026, 11, 22, 2, 0)


def test_schedules_refuse_days_that_are_not_in_every_month_or_week() -> None:
    with pytest.raises(ValueError):
        Monthly(29, time(6))
    with pytest.raises(ValueError):
        Weekly(7, time(6))


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC))


@given(last=moments, day=st.integers(1, 28), hour=st.integers(0, 23))
def test_the_next_monthly_slot_is_the_first_one_after_the_last_run(
        last: datetime, day: int, hour: int) -> None:
    due = Monthly(day, time(hour)).next_after(last)
    local = due.astimezone(SHANGHAI)
    assert due > last and (local.day, local.hour, local.minute) == (day, hour, 0)
    # no slot in between: the slot a month earlier is not after the last run
    earlier = local.replace(year=local.year - (local.month == 1),
                            month=12 if local.month == 1 else local.month - 1)
    assert earlier <= last


@given(last=moments, weekday=st.integers(0, 6), hour=st.integers(0, 23))
def test_the_next_weekly_slot_is_within_a_week_after_the_last_run(
        last: datetime, weekday: int, hour: int) -> None:
    due = Weekly(weekday, time(hour)).next_after(last)
    local = due.astimezone(SHANGHAI)
    assert last < due <= last + timedelta(days=7)
    assert (local.weekday(), local.hour, local.minute) == (weekday, hour, 0)


def test_an_interval_job_is_due_one_interval_after_it_last_ran() -> None:
    assert Every(timedelta(minutes=5)).next_after(_at(2026, 9, 1, 9, 0)) == _at(2026, 9, 1, 9, 5)

"""Claim/verification deadlines and breaches (yibaodai.domain.sla)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.sla import (
    CLAIM_WORKING_DAYS,
    PENALTY_CALENDAR_DAYS,
    VERIFY_WORKING_DAYS,
    SlaBreach,
    claim_deadline,
    find_breach,
    penalty_until,
    verification_deadline,
    working_hours_between,
)

CAL = WorkingDayCalendar()
US = timedelta(microseconds=1)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59, 999999), tzinfo=SHANGHAI)


ASSIGNED = sh(2026, 3, 2, 16, 0)  # Monday
CLAIM_DUE = eod(2026, 3, 4)  # end of Wednesday


def breach(
    *, claimed: datetime | None = None, verified: datetime | None = None, now: datetime
) -> SlaBreach | None:
    return find_breach(
        assigned_at=ASSIGNED, claimed_at=claimed, verified_at=verified, now=now, cal=CAL
    )


def test_policy_constants_match_the_design() -> None:
    assert (CLAIM_WORKING_DAYS, VERIFY_WORKING_DAYS, PENALTY_CALENDAR_DAYS) == (2, 2, 30)


def test_claim_deadline_is_two_working_days_after_assignment() -> None:
    assert claim_deadline(ASSIGNED, CAL) == CLAIM_DUE


def test_claim_deadline_for_a_case_assigned_on_the_mid_autumn_holiday_is_tuesday() -> None:
    assert claim_deadline(sh(2026, 9, 25, 15, 0), CAL) == eod(2026, 9, 29)


def test_verification_deadline_counts_from_the_claim_and_skips_national_day() -> None:
    assert verification_deadline(sh(2026, 9, 30, 9, 0), CAL) == eod(2026, 10, 9)


# --- claim -----------------------------------------------------------------------------------


def test_unclaimed_case_just_before_the_claim_deadline_has_no_breach() -> None:
    assert breach(now=CLAIM_DUE - US) is None


def test_unclaimed_case_exactly_at_the_claim_deadline_has_no_breach() -> None:
    assert breach(now=CLAIM_DUE) is None


def test_unclaimed_case_just_after_the_claim_deadline_is_a_claim_breach() -> None:
    assert breach(now=CLAIM_DUE + US) == SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)


def test_unclaimed_breach_is_detected_at_the_deadline_however_late_the_sweep_runs() -> None:
    assert breach(now=CLAIM_DUE + timedelta(days=9)) == SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)


def test_claim_exactly_at_the_deadline_is_on_time() -> None:
    assert breach(claimed=CLAIM_DUE, now=CLAIM_DUE + US) is None


def test_claim_just_after_the_deadline_is_a_claim_breach_detected_at_the_deadline() -> None:
    late = CLAIM_DUE + US
    verified = late + timedelta(hours=1)
    result = breach(claimed=late, verified=verified, now=verified + timedelta(days=1))
    assert result == SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)


# --- verification ----------------------------------------------------------------------------

CLAIMED = sh(2026, 3, 3, 10, 0)  # Tuesday
VERIFY_DUE = eod(2026, 3, 5)  # end of Thursday


def test_claimed_but_unverified_just_before_the_verification_deadline_has_no_breach() -> None:
    assert breach(claimed=CLAIMED, now=VERIFY_DUE - US) is None


def test_claimed_but_unverified_exactly_at_the_verification_deadline_has_no_breach() -> None:
    assert breach(claimed=CLAIMED, now=VERIFY_DUE) is None


def test_claimed_but_unverified_just_after_the_deadline_is_a_verification_breach() -> None:
    assert breach(claimed=CLAIMED, now=VERIFY_DUE + US) == SlaBreach(
        "verification", VERIFY_DUE, VERIFY_DUE
    )


def test_verification_exactly_at_the_deadline_is_on_time() -> None:
    assert breach(claimed=CLAIMED, verified=VERIFY_DUE, now=VERIFY_DUE + timedelta(days=3)) is None


def test_verification_just_after_the_deadline_is_a_verification_breach() -> None:
    result = breach(claimed=CLAIMED, verified=VERIFY_DUE + US, now=VERIFY_DUE + timedelta(days=3))
    assert result == SlaBreach("verification", VERIFY_DUE, VERIFY_DUE)


def test_verification_deadline_counts_from_the_claim_not_from_assignment() -> None:
    # Claimed on time at the very end of Wednesday -> verification due end of Friday.
    assert breach(claimed=CLAIM_DUE, now=eod(2026, 3, 6)) is None
    assert breach(claimed=CLAIM_DUE, now=eod(2026, 3, 6) + US) == SlaBreach(
        "verification", eod(2026, 3, 6), eod(2026, 3, 6)
    )


def test_times_in_other_zones_are_compared_as_instants() -> None:
    now_utc = (CLAIM_DUE + US).astimezone(UTC)
    assert breach(now=now_utc) == SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)


# --- refused input ---------------------------------------------------------------------------


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        breach(now=datetime(2026, 3, 10, 12, 0))


def test_claim_before_assignment_is_refused() -> None:
    with pytest.raises(ValueError):
        breach(claimed=ASSIGNED - US, now=CLAIM_DUE)


def test_now_before_the_verification_is_refused() -> None:
    with pytest.raises(ValueError):
        breach(claimed=CLAIMED, verified=VERIFY_DUE, now=VERIFY_DUE - US)


def test_verification_without_a_claim_is_refused() -> None:
    with pytest.raises(ValueError):
        breach(verified=CLAIMED, now=VERIFY_DUE)


# --- penalty ---------------------------------------------------------------------------------


def test_penalty_lasts_thirty_calendar_days_from_detection() -> None:
    found = SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)
    assert penalty_until(found) == CLAIM_DUE + timedelta(days=30)
    assert penalty_until(found) == eod(2026, 4, 3)


def test_a_breach_is_immutable() -> None:
    found = SlaBreach("claim", CLAIM_DUE, CLAIM_DUE)
    with pytest.raises(FrozenInstanceError):
        found.kind = "verification"  # type: ignore[misc]


def test_every_step_at_the_same_instant_is_in_order_and_on_time() -> None:
    # a case assigned, claimed and verified in one instant, swept at that instant
    assert breach(claimed=ASSIGNED, verified=ASSIGNED, now=ASSIGNED) is None
    assert breach(now=ASSIGNED) is None
    assert breach(claimed=CLAIM_DUE, verified=CLAIM_DUE, now=CLAIM_DUE) is None


# -- working hours (the performance board) ---------------------------------------------------


def test_working_hours_count_only_nine_to_five_on_working_days() -> None:
    # Friday 27 Nov 2026 16:00 -> Monday 30 Nov 10:00: one hour on Friday, one on Monday
    assert working_hours_between(sh(2026, 11, 27, 16), sh(2026, 11, 30, 10), CAL) == 2.0
    # inside one morning
    assert working_hours_between(sh(2026, 12, 1, 9, 30), sh(2026, 12, 1, 11), CAL) == 1.5
    # a night outside hours counts nothing
    assert working_hours_between(sh(2026, 12, 1, 18), sh(2026, 12, 2, 8), CAL) == 0.0


def test_working_hours_skip_the_spring_festival_and_count_its_make_up_saturday() -> None:
    # Friday 13 Feb 2026 09:00 -> Tuesday 24 Feb 09:00: Fri 13 (8h) + make-up Sat 14 (8h);
    # 15-23 Feb are the holiday
    assert working_hours_between(sh(2026, 2, 13, 9), sh(2026, 2, 24, 9), CAL) == 16.0


def test_working_hours_refuse_an_end_before_the_start() -> None:
    with pytest.raises(ValueError):
        working_hours_between(sh(2026, 12, 2), sh(2026, 12, 1), CAL)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)),
       st.integers(0, 14 * 24 * 60))
def test_working_hours_are_at_most_eight_a_day_and_never_more_than_elapsed(
        start: datetime, minutes: int) -> None:
    a = start.replace(tzinfo=SHANGHAI)
    b = a + timedelta(minutes=minutes)
    hours = working_hours_between(a, b, CAL)
    assert 0 <= hours <= minutes / 60 + 1e-9
    assert hours <= 8 * ((b.date() - a.date()).days + 1)


def test_working_hours_cross_a_month_and_a_year_end() -> None:
    # Monday 30 Nov 16:00 -> Tuesday 1 Dec 10:00: each day opens at its own 09:00
    assert working_hours_between(sh(2026, 11, 30, 16), sh(2026, 12, 1, 10), CAL) == 2.0
    # Thursday 31 Dec 2026 16:00 -> Monday 4 Jan 2027 10:00 (2-3 Jan a weekend)
    new_year = 8.0 if CAL.is_working_day(date(2027, 1, 1)) else 0.0
    assert working_hours_between(sh(2026, 12, 31, 16), sh(2027, 1, 4, 10), CAL) == 2.0 + new_year


def test_the_next_day_opens_at_nine_sharp_whatever_the_minute_of_the_start() -> None:
    """The start's minutes, seconds and microseconds belong to the start only: the next
    working day still counts from 09:00:00.000000."""
    evening = datetime(2026, 12, 1, 18, 30, 30, 500000, tzinfo=SHANGHAI)
    assert working_hours_between(evening, sh(2026, 12, 2, 11), CAL) == 2.0


def test_an_end_before_the_start_is_refused_naming_both_instants() -> None:
    with pytest.raises(ValueError, match=r"end \(2026-12-01T09:00:00\+08:00\) is before start"):
        working_hours_between(sh(2026, 12, 1, 10), sh(2026, 12, 1, 9), CAL)

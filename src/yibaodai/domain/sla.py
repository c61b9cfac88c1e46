"""Claim and verification time limits (时效), DESIGN.md section 1 step 5.

A sub-branch must claim (认领) an assigned case within ``CLAIM_WORKING_DAYS`` working days and
finish offline verification (线下核实) within ``VERIFY_WORKING_DAYS`` working days of claiming.
Deadlines follow the rule in :mod:`yibaodai.domain.calendar`: the end (23:59:59.999999
Asia/Shanghai) of the N-th working day after the event's date; the deadline instant itself is
still on time.

A sub-branch that misses a deadline is excluded from new assignments in its districts for
``PENALTY_CALENDAR_DAYS`` calendar days from the breach.

Pure domain code: callers pass ``now``; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from yibaodai.domain.calendar import WorkingDayCalendar, to_shanghai

CLAIM_WORKING_DAYS = 2
"""Working days a sub-branch has to claim an assigned case (DESIGN.md 1.5)."""

VERIFY_WORKING_DAYS = 2
"""Working days, from claiming, to finish offline verification (DESIGN.md 1.5)."""

PENALTY_CALENDAR_DAYS = 30
"""Policy constant: after a breach, the late sub-branch gets no new cases in its districts for
this many calendar days (counted from the breach's ``detected_at``); they go to other
sub-branches."""

BreachKind = Literal["claim", "verification"]


@dataclass(frozen=True)
class SlaBreach:
    """A missed deadline. ``detected_at`` is the instant the breach became certain, which is the
    deadline itself, so repeated sweeps find the same breach and the same penalty."""

    kind: BreachKind
    deadline: datetime
    detected_at: datetime


def claim_deadline(assigned_at: datetime, cal: WorkingDayCalendar,
                   working_days: int = CLAIM_WORKING_DAYS) -> datetime:
    """Latest on-time claim for a case assigned at ``assigned_at`` (aware datetime)."""
    return cal.add_working_days(assigned_at, working_days)


def verification_deadline(claimed_at: datetime, cal: WorkingDayCalendar,
                          working_days: int = VERIFY_WORKING_DAYS) -> datetime:
    """Latest on-time verification for a case claimed at ``claimed_at`` (aware datetime)."""
    return cal.add_working_days(claimed_at, working_days)


def find_breach(
    *,
    assigned_at: datetime,
    claimed_at: datetime | None,
    verified_at: datetime | None,
    now: datetime,
    cal: WorkingDayCalendar,
) -> SlaBreach | None:
    """The case's SLA breach as of ``now``, or None.

    * claim breach: not claimed and ``now`` is past the claim deadline, or claimed after it;
    * verification breach: claimed on time, and not verified with ``now`` past the verification
      deadline, or verified after it.

    The claim breach wins when both happened (it came first). A breach is detected at its
    deadline. All times must be timezone-aware and in order
    (assigned_at <= claimed_at <= verified_at <= now); otherwise ValueError.
    """
    return find_breach_under(DEFAULT_POLICY, assigned_at=assigned_at, claimed_at=claimed_at,
                             verified_at=verified_at, now=now, cal=cal)


def penalty_until(breach: SlaBreach) -> datetime:
    """End of the exclusion from new assignments: ``detected_at + PENALTY_CALENDAR_DAYS``."""
    return breach.detected_at + timedelta(days=PENALTY_CALENDAR_DAYS)


def _check_order(
    assigned: datetime, claimed: datetime | None, verified: datetime | None, now: datetime
) -> None:
    if verified is not None and claimed is None:
        raise ValueError("verified_at given without claimed_at / 未认领不能有核实时间")
    steps = [("assigned_at", assigned), ("claimed_at", claimed), ("verified_at", verified)]
    steps.append(("now", now))
    present = [(name, t) for name, t in steps if t is not None]
    for (name_a, a), (name_b, b) in pairwise(present):
        if b < a:
            raise ValueError(f"{name_b} ({b.isoformat()}) is before {name_a} ({a.isoformat()})")


# -- the policy as the bank configures it (``Settings.sla_*``) ------------------------------

REMINDER_HOUR = 13
"""Reminders go out at 13:00 Asia/Shanghai on the due working day: half a working day
(13:00-17:00 of a 09:00-17:00 day) before the close of business on the last day."""

ESCALATE_TO_BRANCH_AFTER_WORKING_DAYS = 1
"""A breach still open at the end of this many working days after its deadline goes from the
sub-branch manager up to the branch."""


@dataclass(frozen=True)
class SlaPolicy:
    """The bank's time limits and penalty, one value passed to every step that needs them."""

    claim_working_days: int = CLAIM_WORKING_DAYS
    verify_working_days: int = VERIFY_WORKING_DAYS
    penalty_calendar_days: int = PENALTY_CALENDAR_DAYS

    def __post_init__(self) -> None:
        for name in ("claim_working_days", "verify_working_days", "penalty_calendar_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")


DEFAULT_POLICY = SlaPolicy()


def due(start: datetime, working_days: int, cal: WorkingDayCalendar) -> datetime:
    """The deadline of ``working_days`` from ``start`` (the end of the N-th working day after
    ``start``'s date): the one function every deadline in the system comes from."""
    return cal.add_working_days(start, working_days)


def as_midnight(deadline: datetime) -> datetime:
    """The end of a due day written as 24:00, i.e. 00:00 of the next day (how the bank reads
    a deadline: ``2026-12-02T00:00:00+08:00`` is the end of Tuesday 1 December). Only the
    spelling changes: a step done before this instant is on time."""
    local = to_shanghai(deadline)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start_of_day + timedelta(days=1)


def reminder_at(deadline: datetime) -> datetime:
    """When the responsible person is reminded of ``deadline``: 13:00 on the due day."""
    local = to_shanghai(deadline)
    return local.replace(hour=REMINDER_HOUR, minute=0, second=0, microsecond=0)


def branch_escalation_at(breach: SlaBreach, cal: WorkingDayCalendar) -> datetime:
    """When an unresolved breach goes up to the branch."""
    return cal.add_working_days(breach.deadline, ESCALATE_TO_BRANCH_AFTER_WORKING_DAYS)


def find_breach_under(policy: SlaPolicy, *, assigned_at: datetime, claimed_at: datetime | None,
                      verified_at: datetime | None, now: datetime,
                      cal: WorkingDayCalendar) -> SlaBreach | None:
    """:func:`find_breach` with the bank's configured working days."""
    assigned = to_shanghai(assigned_at)
    current = to_shanghai(now)
    claimed = to_shanghai(claimed_at) if claimed_at is not None else None
    verified = to_shanghai(verified_at) if verified_at is not None else None
    _check_order(assigned, claimed, verified, current)
    claim_due = due(assigned, policy.claim_working_days, cal)
    if (claimed if claimed is not None else current) > claim_due:
        return SlaBreach(kind="claim", deadline=claim_due, detected_at=claim_due)
    if claimed is None:
        return None
    verify_due = due(claimed, policy.verify_working_days, cal)
    if (verified if verified is not None else current) > verify_due:
        return SlaBreach(kind="verification", deadline=verify_due, detected_at=verify_due)
    return None


def penalty_end(policy: SlaPolicy, breach: SlaBreach) -> datetime:
    """End of the sub-branch's exclusion from new cases under ``policy``."""
    return breach.detected_at + timedelta(days=policy.penalty_calendar_days)


# -- working hours, for the performance board ----------------------------------------------

OPENING_HOUR = 9
CLOSING_HOUR = 17
"""The working day the board measures in: 09:00-17:00 Asia/Shanghai on working days (the
same day the reminder's "half a working day" is half of)."""


def working_hours_between(start: datetime, end: datetime, cal: WorkingDayCalendar) -> float:
    """Hours of working time between two instants: only 09:00-17:00 of working days count, so
    a case assigned on Friday evening and claimed on Monday at 10:00 took one working hour,
    and a week of Spring Festival adds nothing. ``end`` before ``start`` is ValueError."""
    first, last = to_shanghai(start), to_shanghai(end)
    if last < first:
        raise ValueError(f"end ({last.isoformat()}) is before start ({first.isoformat()})")
    seconds = 0.0
    day = first.date()
    while day <= last.date():
        if cal.is_working_day(day):
            opens = first.replace(year=day.year, month=day.month, day=day.day,
                                  hour=OPENING_HOUR, minute=0, second=0, microsecond=0)
            closes = opens.replace(hour=CLOSING_HOUR)
            lo, hi = max(opens, first), min(closes, last)
            if hi > lo:
                seconds += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return seconds / 3600

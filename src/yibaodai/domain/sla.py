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


def claim_deadline(assigned_at: datetime, cal: WorkingDayCalendar) -> datetime:
    """Latest on-time claim for a case assigned at ``assigned_at`` (aware datetime)."""
    return cal.add_working_days(assigned_at, CLAIM_WORKING_DAYS)


def verification_deadline(claimed_at: datetime, cal: WorkingDayCalendar) -> datetime:
    """Latest on-time verification for a case claimed at ``claimed_at`` (aware datetime)."""
    return cal.add_working_days(claimed_at, VERIFY_WORKING_DAYS)


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
    assigned = to_shanghai(assigned_at)
    current = to_shanghai(now)
    claimed = to_shanghai(claimed_at) if claimed_at is not None else None
    verified = to_shanghai(verified_at) if verified_at is not None else None
    _check_order(assigned, claimed, verified, current)

    claim_due = claim_deadline(assigned, cal)
    claim_done = claimed if claimed is not None else current
    if claim_done > claim_due:
        return SlaBreach(kind="claim", deadline=claim_due, detected_at=claim_due)
    if claimed is None:
        return None

    verify_due = verification_deadline(claimed, cal)
    verify_done = verified if verified is not None else current
    if verify_done > verify_due:
        return SlaBreach(kind="verification", deadline=verify_due, detected_at=verify_due)
    return None


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

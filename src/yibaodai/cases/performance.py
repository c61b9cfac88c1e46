"""The sub-branch performance board: how fast each sub-branch claims and verifies its cases,
how often it misses the deadlines, whether it is penalised now, and how many of its admitted
cases are reported to head office and end in a drawn loan. One function, over the cases
assigned in a period, for the board, its exports and the command line alike.

Times are in working hours (09:00-17:00 of working days on the bank's calendar,
``domain.sla.working_hours_between``): a case assigned before the Spring Festival and claimed
after it did not wait a week."""

from __future__ import annotations

import statistics
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import CaseRow, SlaPenaltyRow, SubBranchRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.sla import working_hours_between

VERIFIED = frozenset({"verified", "confirmed", "ho_rejected", "reported", "drawn", "closed"})
DRAWN = frozenset({"drawn", "closed"})


class SubBranchPerformance(BaseModel):
    sub_branch_code: str
    sub_branch_name_zh: str
    sub_branch_name_en: str
    assigned: int
    claimed: int
    verified: int
    reported: int
    drawn: int
    median_hours_to_claim: float | None
    p90_hours_to_claim: float | None
    median_hours_to_verify: float | None
    p90_hours_to_verify: float | None
    claim_breaches: int
    verification_breaches: int
    active_penalties: int
    active_penalty: bool
    penalty_until: datetime | None
    #: admitted (assigned) -> reported, reported -> drawn, admitted -> drawn
    conversion_reported: float | None
    conversion_reported_drawn: float | None
    conversion: float | None


def _median(hours: list[float]) -> float | None:
    return round(statistics.median(hours), 1) if hours else None


def _p90(hours: list[float]) -> float | None:
    """The 90th percentile (inclusive method: with one case, that case's time; never beyond
    the slowest case)."""
    if len(hours) < 2:
        return round(hours[0], 1) if hours else None
    return round(statistics.quantiles(hours, n=10, method="inclusive")[8], 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def performance_board(session: Session, *, since: datetime, until: datetime, now: datetime,
                      sub_branches: frozenset[str] | None,
                      calendar: WorkingDayCalendar) -> list[SubBranchPerformance]:
    """Per sub-branch (all of ``sub_branches``, or every one when None), over the cases
    assigned in [since, until); penalties count by the case they were for."""
    subs = select(SubBranchRow).order_by(SubBranchRow.code)
    if sub_branches is not None:
        subs = subs.where(SubBranchRow.code.in_(sorted(sub_branches)))
    cases = session.scalars(select(CaseRow).where(CaseRow.assigned_at >= since,
                                                  CaseRow.assigned_at < until)).all()
    ids = [c.id for c in cases]
    breaches: dict[tuple[str, str], int] = {}
    for p in session.scalars(select(SlaPenaltyRow).where(SlaPenaltyRow.case_id.in_(ids))):
        breaches[(p.sub_branch_code, p.kind)] = breaches.get((p.sub_branch_code, p.kind), 0) + 1
    active: dict[str, datetime] = {}
    active_count: dict[str, int] = {}
    for p in session.scalars(select(SlaPenaltyRow).where(
            SlaPenaltyRow.until > now, SlaPenaltyRow.lifted_at.is_(None))):
        active[p.sub_branch_code] = max(active.get(p.sub_branch_code, p.until), p.until)
        active_count[p.sub_branch_code] = active_count.get(p.sub_branch_code, 0) + 1
    out = []
    for sub in session.scalars(subs):
        mine = [c for c in cases if c.sub_branch_code == sub.code]
        to_claim = [working_hours_between(c.assigned_at, c.claimed_at, calendar)
                    for c in mine if c.claimed_at]
        to_verify = [working_hours_between(c.claimed_at, c.verified_at, calendar)
                     for c in mine if c.verified_at and c.claimed_at]
        reported = sum(1 for c in mine if c.reported_at is not None)
        drawn = sum(1 for c in mine if c.state in DRAWN)
        out.append(SubBranchPerformance(
            sub_branch_code=sub.code, sub_branch_name_zh=sub.name_zh,
            sub_branch_name_en=sub.name_en, assigned=len(mine), claimed=len(to_claim),
            verified=sum(1 for c in mine if c.state in VERIFIED), reported=reported,
            drawn=drawn,
            median_hours_to_claim=_median(to_claim), p90_hours_to_claim=_p90(to_claim),
            median_hours_to_verify=_median(to_verify), p90_hours_to_verify=_p90(to_verify),
            claim_breaches=breaches.get((sub.code, "claim"), 0),
            verification_breaches=breaches.get((sub.code, "verification"), 0),
            active_penalties=active_count.get(sub.code, 0),
            active_penalty=sub.code in active, penalty_until=active.get(sub.code),
            conversion_reported=_ratio(reported, len(mine)),
            conversion_reported_drawn=_ratio(drawn, reported),
            conversion=_ratio(drawn, len(mine))))
    return out

"""The sub-branch performance board: how fast each sub-branch claims and verifies its cases,
how often it misses the deadlines, whether it is penalised now, and how many of its admitted
cases end in a drawn loan. One function, over the cases assigned in a period."""

from __future__ import annotations

import statistics
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import CaseRow, SlaPenaltyRow, SubBranchRow

VERIFIED = frozenset({"verified", "confirmed", "reported", "drawn", "closed"})
DRAWN = frozenset({"drawn", "closed"})


class SubBranchPerformance(BaseModel):
    sub_branch_code: str
    sub_branch_name_zh: str
    sub_branch_name_en: str
    assigned: int
    claimed: int
    verified: int
    drawn: int
    median_hours_to_claim: float | None
    median_hours_to_verify: float | None
    claim_breaches: int
    verification_breaches: int
    active_penalty: bool
    penalty_until: datetime | None
    conversion: float | None


def _median_hours(deltas: list[float]) -> float | None:
    return round(statistics.median(deltas) / 3600, 1) if deltas else None


def performance_board(session: Session, *, since: datetime, until: datetime, now: datetime,
                      sub_branches: frozenset[str] | None) -> list[SubBranchPerformance]:
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
    for p in session.scalars(select(SlaPenaltyRow).where(
            SlaPenaltyRow.until > now, SlaPenaltyRow.lifted_at.is_(None))):
        active[p.sub_branch_code] = max(active.get(p.sub_branch_code, p.until), p.until)
    out = []
    for sub in session.scalars(subs):
        mine = [c for c in cases if c.sub_branch_code == sub.code]
        to_claim = [(c.claimed_at - c.assigned_at).total_seconds() for c in mine if c.claimed_at]
        to_verify = [(c.verified_at - c.claimed_at).total_seconds() for c in mine
                     if c.verified_at and c.claimed_at]
        drawn = sum(1 for c in mine if c.state in DRAWN)
        out.append(SubBranchPerformance(
            sub_branch_code=sub.code, sub_branch_name_zh=sub.name_zh,
            sub_branch_name_en=sub.name_en, assigned=len(mine), claimed=len(to_claim),
            verified=sum(1 for c in mine if c.state in VERIFIED), drawn=drawn,
            median_hours_to_claim=_median_hours(to_claim),
            median_hours_to_verify=_median_hours(to_verify),
            claim_breaches=breaches.get((sub.code, "claim"), 0),
            verification_breaches=breaches.get((sub.code, "verification"), 0),
            active_penalty=sub.code in active, penalty_until=active.get(sub.code),
            conversion=round(drawn / len(mine), 4) if mine else None))
    return out

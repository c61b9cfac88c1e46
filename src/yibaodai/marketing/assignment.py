"""Assigning prospects: to a sub-branch by the rule cases follow (the nearest sub-branch serving
the district, skipping sub-branches under an SLA penalty), then to a client manager of that
sub-branch, balanced by open load. A do-not-contact prospect gets its sub-branch (it counts in
that sub-branch's list) but no client manager: it is never on anyone's call list.

Coordinates come from the list when it has them, else from the gateway's profile of the linked
institution; without either, the district's first sub-branch in the organisation file takes it,
exactly as for a case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Role
from yibaodai.cases.assignment import branch_from_db
from yibaodai.cases.penalties import penalised_sub_branches
from yibaodai.db.models import CaseRow, InstitutionRow, ProspectRow, UserRow
from yibaodai.domain.case import CaseState
from yibaodai.domain.marketing.funnel import balance
from yibaodai.domain.marketing.outreach import CALLABLE
from yibaodai.domain.organisation import choose_sub_branch
from yibaodai.marketing.outreach import current_states

#: Case states in which a client manager still has work on the case.
OPEN_CASE_STATES = (CaseState.CLAIMED.value, CaseState.VERIFIED.value,
                    CaseState.CONFIRMED.value)


@dataclass
class AssignmentSummary:
    assigned: int = 0
    by_sub_branch: dict[str, int] = field(default_factory=dict)
    without_manager: int = 0


def open_loads(session: Session, sub_branch: str) -> dict[int, int]:
    """Active client managers of a sub-branch -> their open load: prospects still to work on
    (callable, not do-not-contact) plus cases they hold that are not finished."""
    managers = session.scalars(select(UserRow.id).where(
        UserRow.sub_branch_code == sub_branch, UserRow.role == Role.CLIENT_MANAGER.value,
        UserRow.active.is_(True)).order_by(UserRow.id)).all()
    if not managers:
        return {}
    loads = dict.fromkeys(managers, 0)
    held = session.execute(select(ProspectRow.id, ProspectRow.client_manager_id).where(
        ProspectRow.client_manager_id.in_(managers),
        ProspectRow.do_not_contact.is_(False))).all()
    states = current_states(session, prospect_ids=[pid for pid, _ in held])
    for pid, manager in held:
        if states[pid] in CALLABLE:
            loads[manager] += 1
    for manager, count in session.execute(select(CaseRow.client_manager_id, func.count()).where(
            CaseRow.client_manager_id.in_(managers), CaseRow.state.in_(OPEN_CASE_STATES)
    ).group_by(CaseRow.client_manager_id)):
        loads[manager] += count
    return loads


@dataclass(frozen=True)
class Candidate:
    """A prospect to assign; ``key`` is the caller's (a prospect id, or a row of an import
    not yet inserted)."""

    key: int
    district: str
    latitude: float | None
    longitude: float | None
    do_not_contact: bool


def plan_assignments(session: Session, candidates: Sequence[Candidate], *, now: datetime
                     ) -> tuple[dict[int, dict[str, Any]], AssignmentSummary]:
    """Where each candidate goes: key -> the prospect columns of its assignment. A candidate
    is left out only when every sub-branch is penalised (the next run takes it)."""
    summary = AssignmentSummary()
    if not candidates:
        return {}, summary
    branch = branch_from_db(session)
    excluded = penalised_sub_branches(session, now)
    chosen: dict[int, tuple[str, dict[str, Any]]] = {}
    to_balance: dict[str, list[int]] = {}
    for c in candidates:
        sub = choose_sub_branch(branch, district=c.district, latitude=c.latitude,
                                longitude=c.longitude, excluded=excluded)
        if sub is None:
            continue
        chosen[c.key] = (sub.code, {
            "rule": "district_nearest", "balanced_by": "open_load", "district": c.district,
            "coordinates": c.latitude is not None, "serves_district": c.district in sub.districts,
            "skipped_penalised": sorted(excluded)})
        if not c.do_not_contact:
            to_balance.setdefault(sub.code, []).append(c.key)
    managers: dict[int, int] = {}
    for code, keys in to_balance.items():
        managers |= balance(keys, loads=open_loads(session, code))
    out = {key: {"sub_branch_code": code, "client_manager_id": managers.get(key),
                 "assigned_at": now, "assignment": details}
           for key, (code, details) in chosen.items()}
    summary.assigned = len(out)
    summary.without_manager = sum(1 for v in out.values() if v["client_manager_id"] is None)
    summary.by_sub_branch = dict(sorted(Counter(c for c, _ in chosen.values()).items()))
    return out, summary


def assign_prospects(session: Session, *, now: datetime, reassign: Collection[int] = ()
                     ) -> AssignmentSummary:
    """Assign every stored prospect without a sub-branch, and re-assign ``reassign``
    (prospects a list moved to another district). One audit row for the batch."""
    wanted = select(ProspectRow.id, ProspectRow.district, ProspectRow.latitude,
                    ProspectRow.longitude, ProspectRow.do_not_contact, InstitutionRow.latitude,
                    InstitutionRow.longitude).outerjoin(
        InstitutionRow, InstitutionRow.fixmedins_code == ProspectRow.institution_code)
    condition: ColumnElement[bool] = ProspectRow.sub_branch_code.is_(None)
    if reassign:
        condition = or_(condition, ProspectRow.id.in_(list(reassign)))
    candidates = [Candidate(pid, district, lat if lat is not None else inst_lat,
                            lon if lat is not None else inst_lon, dnc)
                  for pid, district, lat, lon, dnc, inst_lat, inst_lon in session.execute(
                      wanted.where(condition).order_by(ProspectRow.id))]
    planned, summary = plan_assignments(session, candidates, now=now)
    if planned:
        session.execute(update(ProspectRow), [{"id": k, **v} for k, v in planned.items()])
        audit(session, at=now, actor="system", action="marketing.assign", target="prospects",
              details={"assigned": summary.assigned, "by_sub_branch": summary.by_sub_branch,
                       "without_manager": summary.without_manager})
    return summary

"""SLA penalties: which sub-branches get no new cases now, the list the branch sees, and
lifting a penalty early (a branch manager, with a reason, audited)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor
from yibaodai.db.models import SlaPenaltyRow, UserRow
from yibaodai.domain.roles import Role
from yibaodai.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed


def active_penalties(session: Session, now: datetime) -> list[SlaPenaltyRow]:
    return list(session.scalars(select(SlaPenaltyRow).where(
        SlaPenaltyRow.until > now, SlaPenaltyRow.lifted_at.is_(None))
        .order_by(SlaPenaltyRow.id)))


def penalised_sub_branches(session: Session, now: datetime) -> frozenset[str]:
    """Sub-branches skipped for new cases: a penalty running and not lifted."""
    return frozenset(p.sub_branch_code for p in active_penalties(session, now))


class PenaltyItem(BaseModel):
    id: int
    sub_branch_code: str
    case_id: int
    kind: str
    deadline: datetime
    detected_at: datetime
    until: datetime
    active: bool
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None


def penalty_list(session: Session, *, now: datetime) -> list[PenaltyItem]:
    """Every penalty, newest first, with whether it still keeps new cases away."""
    names = dict(session.execute(select(UserRow.id, UserRow.username)).tuples().all())
    return [PenaltyItem(
        id=p.id, sub_branch_code=p.sub_branch_code, case_id=p.case_id, kind=p.kind,
        deadline=p.deadline, detected_at=p.detected_at, until=p.until,
        active=p.lifted_at is None and p.until > now, lifted_at=p.lifted_at,
        lifted_by=names.get(p.lifted_by) if p.lifted_by else None, lift_reason=p.lift_reason)
        for p in session.scalars(select(SlaPenaltyRow).order_by(SlaPenaltyRow.id.desc()))]


def lift_penalty(session: Session, *, actor: Actor, penalty_id: int, reason: str,
                 now: datetime) -> SlaPenaltyRow:
    """A branch manager lifts a running penalty; the sub-branch takes new cases again."""
    if actor.role != Role.BRANCH_MANAGER:
        raise PermissionDenied("只有分行部门总经理可以解除处罚",
                               "only a branch manager may lift a penalty", code="role_not_allowed")
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise ValidationFailed("解除处罚须说明理由", "a reason is required to lift a penalty",
                               code="invalid_reason", fields=[FieldError(
                                   "reason", "须填写2至500字的理由",
                                   "give a reason of 2 to 500 characters")])
    penalty = session.get(SlaPenaltyRow, penalty_id)
    if penalty is None:
        raise NotFound("处罚不存在", "penalty not found", code="penalty_not_found")
    if penalty.lifted_at is not None or penalty.until <= now:
        raise Conflict("处罚已解除或已到期", "the penalty is already lifted or over",
                       code="penalty_not_active")
    penalty.lifted_at, penalty.lifted_by, penalty.lift_reason = now, actor.user_id, text
    audit(session, at=now, actor=actor.username, action="sla.penalty_lifted",
          target=f"sub_branch:{penalty.sub_branch_code}",
          details={"penalty_id": penalty.id, "case_id": penalty.case_id, "reason": text})
    session.flush()
    return penalty

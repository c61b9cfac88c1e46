"""A department manager overrides the mismatches of a verification (with a reason), so the
case may be confirmed: four eyes again, never the verifier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor
from yibaodai.cases.events import append_case_event
from yibaodai.cases.service import visible_case
from yibaodai.cases.verification import OVERRIDE_EVENT, CaseRead, outstanding_mismatches
from yibaodai.db.models import CaseEventRow, CaseRow
from yibaodai.domain.case import CaseState
from yibaodai.domain.roles import Role
from yibaodai.errors import Conflict, FieldError, PermissionDenied, ValidationFailed

MAY_OVERRIDE = frozenset({Role.SUB_BRANCH_MANAGER, Role.BRANCH_MANAGER})


def override_refusal(session: Session, actor: Actor, case: CaseRow,
                     read: CaseRead | None = None) -> PermissionDenied | Conflict | None:
    """Why ``actor`` may not override the case's mismatches now, or None (the case page's
    button asks the same, passing the case's events it has ``read``)."""
    if actor.role not in MAY_OVERRIDE:
        return PermissionDenied("只有部门经理可以放行不一致项", "only a department manager may "
                                "override mismatches", code="role_not_allowed")
    if case.state != CaseState.VERIFIED.value or not (
            read.mismatches() if read else outstanding_mismatches(session, case)):
        return Conflict("没有待放行的不一致项", "no mismatches to override",
                        code="no_mismatches")
    verifier = read.last_actor("verify_pass") if read else session.scalars(
        select(CaseEventRow.actor_id).where(
            CaseEventRow.case_id == case.id, CaseEventRow.event == "verify_pass")
        .order_by(CaseEventRow.id.desc()).limit(1)).first()
    if verifier == actor.user_id:
        return PermissionDenied("核实人不能放行自己的不一致项",
                                "the verifier may not override their own findings",
                                code="four_eyes")
    return None


def override_mismatches(session: Session, *, actor: Actor, case_id: int, reason: str,
                        now: datetime) -> CaseRow:
    case = visible_case(session, actor, case_id)
    if actor.role not in MAY_OVERRIDE:
        raise PermissionDenied("只有部门经理可以放行不一致项", "only a department manager may "
                               "override mismatches", code="role_not_allowed")
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise ValidationFailed("须说明放行理由", "a reason is required",
                               code="invalid_reason", fields=[FieldError(
                                   "reason", "须填写2至500字的理由",
                                   "give a reason of 2 to 500 characters")])
    refused = override_refusal(session, actor, case)
    if refused is not None:
        raise refused
    mismatched = outstanding_mismatches(session, case)
    details = {"reason": text, "mismatches": mismatched}
    append_case_event(session, case_id=case.id, at=now, event=OVERRIDE_EVENT,
                      from_state=case.state, to_state=case.state, actor_id=actor.user_id,
                      details=details)
    audit(session, at=now, actor=actor.username, action="case.mismatch_override",
          target=f"case:{case.id}", details=details)
    return case

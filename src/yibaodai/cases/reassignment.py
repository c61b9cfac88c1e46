"""Moving a case by hand (改派): a branch manager to another sub-branch or to a named client
manager, a sub-branch manager to another client manager of the same sub-branch. Always with
a reason; every move is a case event (who, when, why, from where to where) and an audit row.

To another sub-branch the case starts over as assigned there (new claim clock); to a client
manager it keeps its state and clock, and that person holds it (verifies it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor
from yibaodai.cases.events import append_case_event
from yibaodai.cases.service import visible_case
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.db.models import CaseRow, SubBranchRow, UserRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import REASSIGNABLE, CaseState, reassignment_refusal
from yibaodai.domain.roles import Role
from yibaodai.domain.sla import DEFAULT_POLICY, SlaPolicy, due
from yibaodai.errors import (
    Conflict,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)


def _invalid(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("改派请求有误", "invalid reassignment", code="invalid_reassignment",
                            fields=[FieldError(field, zh, en)])


def _target(session: Session, *, sub_branch_code: str | None, client_manager: str | None,
            client_manager_id: int | None = None) -> tuple[str, UserRow | None]:
    named = client_manager is not None or client_manager_id is not None
    if (sub_branch_code is None) == (not named) or (
            client_manager is not None and client_manager_id is not None):
        raise _invalid("to", "须指定目标支行或客户经理（二选一）",
                       "give either a sub-branch or a client manager")
    if named:
        who = (UserRow.username == client_manager if client_manager is not None
               else UserRow.id == client_manager_id)
        user = session.scalars(select(UserRow).where(
            who, UserRow.active.is_(True), UserRow.role == Role.CLIENT_MANAGER.value)).first()
        if user is None or user.sub_branch_code is None:
            raise _invalid("client_manager", "不是在岗的客户经理",
                           "not an active client manager")
        return user.sub_branch_code, user
    assert sub_branch_code is not None
    if session.get(SubBranchRow, sub_branch_code) is None:
        raise _invalid("sub_branch_code", "支行不存在", "no such sub-branch")
    return sub_branch_code, None


def reassign_allowed(actor: Actor, case: CaseRow) -> bool:
    """Whether the case page offers the reassignment form: a branch manager, or the case's
    own sub-branch manager, before verification (the target is checked on submit)."""
    if CaseState(case.state) not in REASSIGNABLE:
        return False
    return actor.role == Role.BRANCH_MANAGER or (
        actor.role == Role.SUB_BRANCH_MANAGER and actor.sub_branch_code == case.sub_branch_code)


def reassign(session: Session, *, actor: Actor, case_id: int, reason: str, now: datetime,
             sub_branch_code: str | None = None, client_manager: str | None = None,
             client_manager_id: int | None = None,
             calendar: WorkingDayCalendar | None = None,
             policy: SlaPolicy = DEFAULT_POLICY) -> CaseRow:
    case = visible_case(session, actor, case_id)
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise _invalid("reason", "须填写2至500字的改派理由", "give a reason of 2 to 500 characters")
    target_sub, user = _target(session, sub_branch_code=sub_branch_code,
                               client_manager=client_manager,
                               client_manager_id=client_manager_id)
    refused = reassignment_refusal(
        state=CaseState(case.state), role=actor.role, actor_sub_branch=actor.sub_branch_code,
        case_sub_branch=case.sub_branch_code, target_sub_branch=target_sub,
        to_client_manager=user is not None)
    if refused is not None:
        error = Conflict if refused.code == "invalid_transition" else PermissionDenied
        raise error(refused.message_zh, refused.message_en, code=refused.code)
    if user is not None and user.id == case.client_manager_id:
        raise Conflict("案件已由该客户经理持有", "that client manager already holds the case",
                       code="same_holder")
    before = case.state
    details = {"reason": text, "from_sub_branch": case.sub_branch_code,
               "to_sub_branch": target_sub, "from_holder": case.client_manager_id,
               "to_holder": user.id if user else None}
    if target_sub != case.sub_branch_code:  # a new sub-branch claims afresh
        case.sub_branch_code = target_sub
        case.state = CaseState.ASSIGNED.value
        case.assigned_at, case.claimed_at, case.verification_deadline = now, None, None
        case.claim_deadline = due(now, policy.claim_working_days, calendar or bank_calendar())
    case.client_manager_id = user.id if user else None
    append_case_event(session, case_id=case.id, at=now, event="reassigned",
                      from_state=before, to_state=case.state, actor_id=actor.user_id,
                      details=details)
    audit(session, at=now, actor=actor.username, action="case.reassigned",
          target=f"case:{case.id}", details=details)
    session.flush()
    return case

"""Case steps as staff and systems perform them: claim, verify, confirm, report, loan status.

Every step goes through ``domain.case.transition``, writes a case event and an audit row, and
(for confirmation) publishes ``CaseConfirmed``, whose handler queues the outbox row to head
office — all in the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import CAN_CLAIM, Actor
from yibaodai.cases.events import append_case_event
from yibaodai.db.models import CaseEventRow, CaseRow, DecisionRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import CaseState, Command, Refusal, transition
from yibaodai.domain.events import CaseConfirmed, Publish
from yibaodai.domain.sla import verification_deadline
from yibaodai.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    YibaodaiError,
)

#: What the offline verification must confirm (DESIGN step 6).
CHECKLIST = {
    "identity": ("机构身份与医保数据一致", "identity matches"),
    "licence": ("执业/经营许可证有效", "licence valid"),
    "address": ("实际经营地址与登记一致", "address matches"),
    "settlement_account": ("医保结算账户一致", "settlement account matches"),
    "operating_status": ("经营状态正常", "operating normally"),
}


def visible_case(session: Session, actor: Actor, case_id: int) -> CaseRow:
    """The case if the actor's data scope covers it; otherwise NotFound (never 'forbidden',
    so out-of-scope ids reveal nothing)."""
    case = session.get(CaseRow, case_id)
    if case is None or not actor.can_see_sub_branch(case.sub_branch_code):
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    return case


def _as_error(refusal: Refusal) -> YibaodaiError:
    error = PermissionDenied if refusal.code == "role_not_allowed" else Conflict
    return error(refusal.message_zh, refusal.message_en, code=refusal.code)


def _refusal(case: CaseRow, command: Command, actor: Actor | None) -> YibaodaiError | None:
    result = transition(CaseState(case.state), command, role=actor.role if actor else None)
    return _as_error(result) if isinstance(result, Refusal) else None


def claim_refusal(actor: Actor, case: CaseRow) -> YibaodaiError | None:
    """Why ``actor`` may not claim ``case`` now, or None. The claim itself and the case
    page's button both ask this, so the button shows exactly when the claim would pass."""
    if actor.role not in CAN_CLAIM:
        return PermissionDenied("当前角色无权认领案件", "your role may not claim cases",
                                code="role_not_allowed")
    if actor.sub_branch_code != case.sub_branch_code:
        return NotFound("案件不存在", "case not found", code="case_not_found")
    return _refusal(case, Command.CLAIM, actor)


def verify_refusal(actor: Actor, case: CaseRow) -> YibaodaiError | None:
    return _refusal(case, Command.VERIFY_PASS, actor)


def confirm_refusal(session: Session, actor: Actor, case: CaseRow) -> YibaodaiError | None:
    """Role and state, then four eyes (not the verifier), then the latest decision must
    still admit the institution."""
    refused = _refusal(case, Command.CONFIRM, actor)
    if refused is not None:
        return refused
    verifier = session.scalars(select(CaseEventRow.actor_id).where(
        CaseEventRow.case_id == case.id, CaseEventRow.event == Command.VERIFY_PASS.value)).first()
    if verifier == actor.user_id:
        return PermissionDenied("核实人与确认人不能为同一人",
                                "the verifier may not also confirm", code="four_eyes")
    latest = latest_decision_of(session, case)
    if latest.result != "admitted":
        return Conflict("最新准入结论为拒绝，不能上报总行",
                        "the latest admission decision refuses this institution; not reported",
                        code="decision_superseded", details={"decision_id": latest.id})
    return None


def latest_decision_of(session: Session, case: CaseRow) -> DecisionRow:
    return session.scalars(select(DecisionRow).where(
        DecisionRow.fixmedins_code == case.fixmedins_code).order_by(DecisionRow.id.desc())
        .limit(1)).one()


def _apply(session: Session, case: CaseRow, command: Command, *, actor: Actor | None,
           now: datetime, details: dict[str, Any] | None = None) -> None:
    before = CaseState(case.state)
    result = transition(before, command, role=actor.role if actor else None)
    if isinstance(result, Refusal):
        raise _as_error(result)
    case.state = result.value
    append_case_event(session, case_id=case.id, at=now, event=command.value,
                      from_state=before.value, to_state=result.value,
                      actor_id=actor.user_id if actor else None, details=details)
    audit(session, at=now, actor=actor.username if actor else "system",
          action=f"case.{command.value}", target=f"case:{case.id}", details=details or {})


def claim(session: Session, *, actor: Actor, case_id: int, now: datetime,
          calendar: WorkingDayCalendar | None = None) -> CaseRow:
    case = visible_case(session, actor, case_id)
    refused = claim_refusal(actor, case)
    if refused is not None:
        raise refused
    _apply(session, case, Command.CLAIM, actor=actor, now=now)
    case.claimed_at = now
    case.client_manager_id = actor.user_id
    case.verification_deadline = verification_deadline(now, calendar or WorkingDayCalendar())
    return case


def verify(session: Session, *, actor: Actor, case_id: int, checklist: dict[str, bool],
           note: str, now: datetime) -> CaseRow:
    case = visible_case(session, actor, case_id)
    missing = [k for k in CHECKLIST if k not in checklist]
    unknown = [k for k in checklist if k not in CHECKLIST]
    if missing or unknown:
        raise ValidationFailed(
            "核实清单不完整", "verification checklist incomplete", code="invalid_checklist",
            fields=[FieldError(f"checklist.{k}", "必填", "required") for k in missing]
            + [FieldError(f"checklist.{k}", "未知项目", "unknown item") for k in unknown])
    if len(note) > 1000:
        raise ValidationFailed("备注过长", "note too long", code="note_too_long",
                               fields=[FieldError("note", "最多1000字", "at most 1000 chars")])
    passed = all(checklist.values())
    _apply(session, case, Command.VERIFY_PASS if passed else Command.VERIFY_FAIL, actor=actor,
           now=now, details={"checklist": checklist, "note": note})
    case.verified_at = now
    return case


def confirm(session: Session, *, actor: Actor, case_id: int, now: datetime,
            publish: Publish) -> CaseRow:
    """A sub-branch department manager confirms; four eyes: not the one who verified.
    ``CaseConfirmed`` is published in the same unit of work (the whitelist entry to head
    office is its handler, ``cases.handlers``)."""
    case = visible_case(session, actor, case_id)
    refused = confirm_refusal(session, actor, case)
    if refused is not None:
        raise refused
    latest = latest_decision_of(session, case)
    _apply(session, case, Command.CONFIRM, actor=actor, now=now,
           details={"decision_id": latest.id, "credit_limit": str(latest.credit_limit)})
    case.confirmed_at = now
    case.credit_limit = latest.credit_limit  # a re-evaluation may have moved the limit
    publish(session, [CaseConfirmed(at=now, case_id=case.id, fixmedins_code=case.fixmedins_code,
                                    decision_id=latest.id, credit_limit=latest.credit_limit)])
    return case


def mark_reported(session: Session, *, case_id: int, now: datetime, ack: dict[str, Any]) -> None:
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    if case.state == CaseState.CONFIRMED.value:
        _apply(session, case, Command.MARK_REPORTED, actor=None, now=now, details=ack)
        case.reported_at = now


def apply_loan_status(session: Session, *, fixmedins_code: str, case_id: int, status: str,
                      drawn: Any, balance: Any, overdue_days: int, now: datetime) -> CaseRow:
    """Head office's report of the loan. Idempotent: a repeated status changes nothing."""
    case = session.get(CaseRow, case_id)
    if case is None or case.fixmedins_code != fixmedins_code:
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    if status == "drawn" and case.state == CaseState.REPORTED.value:
        _apply(session, case, Command.MARK_DRAWN, actor=None, now=now,
               details={"drawn": str(drawn)})
    elif status == "closed" and case.state == CaseState.DRAWN.value:
        _apply(session, case, Command.MARK_CLOSED, actor=None, now=now, details={})
    case.loan_status = status
    case.loan_drawn = drawn
    case.loan_balance = balance
    case.overdue_days = overdue_days
    return case

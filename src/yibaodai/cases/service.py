"""Case steps as staff and systems perform them: claim, verify, confirm, report, loan status.

Every step goes through ``domain.case.transition``, writes a case event and an audit row, and
(for confirmation) publishes ``CaseConfirmed``, whose handler queues the outbox row to head
office — all in the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import CAN_CLAIM, Actor
from yibaodai.cases.events import append_case_event
from yibaodai.cases.notify import LoggingNotifier, notify_once
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.cases.verification import (
    CaseRead,
    check_findings,
    findings_details,
    outstanding_mismatches,
)
from yibaodai.db.models import CaseEventRow, CaseRow, DecisionRow, UserRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import (
    LOAN_STATUS_STATES,
    STATE_NAMES_ZH,
    CaseState,
    Command,
    Refusal,
    four_eyes_refusal,
    transition,
    verifier_refusal,
)
from yibaodai.domain.events import CaseConfirmed, Publish
from yibaodai.domain.roles import Role
from yibaodai.domain.sla import DEFAULT_POLICY, SlaPolicy, due
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


#: Refusals about who acts (403); the others are about the case's state (409).
_WHO_REFUSALS = frozenset({"role_not_allowed", "four_eyes", "not_holder",
                           "sub_branch_can_confirm"})


def _as_error(refusal: Refusal) -> YibaodaiError:
    error = PermissionDenied if refusal.code in _WHO_REFUSALS else Conflict
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
    refused = _refusal(case, Command.CLAIM, actor)
    if refused is None and case.client_manager_id not in (None, actor.user_id):
        # handed by hand to a named client manager: that person claims it
        return PermissionDenied("案件已指派给其他客户经理", "the case was handed to another "
                                "client manager", code="not_holder")
    return refused


def verify_refusal(actor: Actor, case: CaseRow) -> YibaodaiError | None:
    """Role and state, then: only the case's current holder verifies."""
    refused = _refusal(case, Command.VERIFY_PASS, actor)
    if refused is not None:
        return refused
    holder = verifier_refusal(holder_id=case.client_manager_id, actor_id=actor.user_id)
    return _as_error(holder) if holder is not None else None


def _step_actor(session: Session, case: CaseRow, command: Command) -> int | None:
    """Who last performed ``command`` on the case (from its events)."""
    return session.scalars(select(CaseEventRow.actor_id).where(
        CaseEventRow.case_id == case.id, CaseEventRow.event == command.value)
        .order_by(CaseEventRow.id.desc()).limit(1)).first()


#: A sub-branch's (``code``, bound at execution) active department managers; built once, as
#: the case page asks it on every view of a case awaiting confirmation.
_CONFIRMERS = select(UserRow.id).where(UserRow.sub_branch_code == bindparam("code"),
                                       UserRow.active.is_(True),
                                       UserRow.role == Role.SUB_BRANCH_MANAGER.value)


def sub_branch_confirmers(session: Session, sub_branch_code: str) -> frozenset[int]:
    """The active department managers of a sub-branch: who may confirm its cases."""
    return frozenset(session.scalars(_CONFIRMERS, {"code": sub_branch_code}).all())


def confirm_refusal(session: Session, actor: Actor, case: CaseRow,
                    read: CaseRead | None = None) -> YibaodaiError | None:
    """Role and state, then four eyes (neither the claimer nor the verifier; the branch
    only when the sub-branch has nobody left who may), then the latest decision must still
    admit the institution. ``read``: the case's events and latest decision when the caller
    has them already (the case page), else they are queried."""
    refused = _refusal(case, Command.CONFIRM, actor)
    if refused is not None:
        return refused
    eyes = four_eyes_refusal(
        actor_id=actor.user_id, role=actor.role,
        claimer_id=(read.last_actor(Command.CLAIM.value) if read
                    else _step_actor(session, case, Command.CLAIM)),
        verifier_id=(read.last_actor(Command.VERIFY_PASS.value) if read
                     else _step_actor(session, case, Command.VERIFY_PASS)),
        sub_branch_confirmers=sub_branch_confirmers(session, case.sub_branch_code))
    if eyes is not None:
        return _as_error(eyes)
    mismatched = read.mismatches() if read else outstanding_mismatches(session, case)
    if mismatched:
        return Conflict("现场核实与医保局数据不一致，须部门经理说明理由后方可确认",
                        "on-site findings differ from the bureau's data; a department manager "
                        "must override them with a reason first", code="verification_mismatch",
                        details={"mismatches": mismatched})
    latest = read.latest if read else latest_decision_of(session, case)
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
          calendar: WorkingDayCalendar | None = None,
          policy: SlaPolicy = DEFAULT_POLICY) -> CaseRow:
    case = visible_case(session, actor, case_id)
    refused = claim_refusal(actor, case)
    if refused is not None:
        raise refused
    _apply(session, case, Command.CLAIM, actor=actor, now=now)
    case.claimed_at = now
    case.client_manager_id = actor.user_id
    case.verification_deadline = due(now, policy.verify_working_days,
                                     calendar or bank_calendar())
    return case


def verify(session: Session, *, actor: Actor, case_id: int, checklist: dict[str, bool],
           note: str, now: datetime, findings: dict[str, str] | None = None) -> CaseRow:
    """The holder's offline verification: the checklist ticks and, for each field checked on
    site, the value found (compared with the bureau's; mismatches block the sign-off until
    overridden, ``cases.overrides``)."""
    case = visible_case(session, actor, case_id)
    refused = verify_refusal(actor, case)
    if refused is not None:
        raise refused
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
    check_findings(findings or {})
    passed = all(checklist.values())
    details: dict[str, Any] = {"checklist": checklist, "note": note}
    if findings:
        details |= findings_details(session, case, findings)
    _apply(session, case, Command.VERIFY_PASS if passed else Command.VERIFY_FAIL, actor=actor,
           now=now, details=details)
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
    """Head office's answer to a whitelist entry: accepted (reported), or refused with its
    reasons (``accepted: false``). A second copy of the answer changes nothing."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    if case.state != CaseState.CONFIRMED.value:
        return
    if ack.get("accepted") is False:
        _reject_by_head_office(session, case, now=now, ack=ack)
        return
    _apply(session, case, Command.MARK_REPORTED, actor=None, now=now, details=ack)
    case.reported_at = now


#: Head office's reasons are kept as sent, bounded (a peer's text is not trusted to be small).
MAX_HO_REASONS, MAX_HO_REASON_CHARS = 10, 300


def head_office_reasons(ack: dict[str, Any]) -> list[dict[str, str]]:
    """The refusal's reasons as ``{code, text_zh, text_en}``; a refusal without any says so."""
    raw = ack.get("reasons")
    items = raw if isinstance(raw, list) else []
    out = [{key: str(item.get(key) or "")[:MAX_HO_REASON_CHARS]
            for key in ("code", "text_zh", "text_en")}
           for item in items[:MAX_HO_REASONS] if isinstance(item, dict)]
    return out or [{"code": "unspecified", "text_zh": "总行未说明原因",
                     "text_en": "head office gave no reason"}]


def _reject_by_head_office(session: Session, case: CaseRow, *, now: datetime,
                           ack: dict[str, Any]) -> None:
    reasons = head_office_reasons(ack)
    _apply(session, case, Command.MARK_HO_REJECTED, actor=None, now=now,
           details={"ho_ref": str(ack.get("ho_ref") or "")[:40], "reasons": reasons})
    if case.client_manager_id is not None:
        text_zh = "；".join(r["text_zh"] for r in reasons)
        text_en = "; ".join(r["text_en"] for r in reasons)
        notice = notify_once(
            session, key=f"ho-rejected-{case.id}", user_id=case.client_manager_id, at=now,
            kind="ho_rejected", case_id=case.id,
            message_zh=f"案件{case.id}的白名单被总行退回：{text_zh}",
            message_en=f"Head office returned the whitelist entry of case {case.id}: {text_en}")
        if notice is not None:
            session.flush()
            LoggingNotifier().send(notice)  # the default way out, as the sweep's notices


def loan_status_refusal(case: CaseRow, *, status: str, drawn: Decimal,
                        balance: Decimal) -> ValidationFailed | None:
    """Head office's loan status fits only a case it has been sent (reported or drawn), and
    never draws above the case's limit: anything else is refused field by field."""
    state = CaseState(case.state)
    if state not in LOAN_STATUS_STATES:
        return ValidationFailed(
            "案件未上报总行，不能接收贷款状态", "the case has not been reported to head office",
            code="case_not_reported", fields=[FieldError(
                "case_id", f"case_id：案件{case.id}为{STATE_NAMES_ZH[state]}，未上报总行",
                f"case_id: case {case.id} is {state.value}, not reported to head office")])
    if drawn > case.credit_limit:
        return ValidationFailed(
            "放款金额超过授信额度", "drawn amount above the credit limit",
            code="drawn_above_limit", fields=[FieldError(
                "drawn_amount", f"drawn_amount：{drawn} 超过授信额度 {case.credit_limit}",
                f"drawn_amount: {drawn} is above the credit limit {case.credit_limit}")])
    if balance > drawn and status != "approved":
        return ValidationFailed(
            "贷款余额超过放款金额", "balance above the drawn amount", code="balance_above_drawn",
            fields=[FieldError("balance", f"balance：{balance} 超过放款金额 {drawn}",
                               f"balance: {balance} is above the drawn amount {drawn}")])
    return None


def apply_loan_status(session: Session, *, fixmedins_code: str, case_id: int, status: str,
                      drawn: Decimal, balance: Decimal, overdue_days: int,
                      now: datetime) -> CaseRow:
    """Head office's report of the loan (8601): refused (nothing written) unless the case was
    reported and the amounts fit its limit; each accepted status is a case event with an
    audit row, a state change when it draws or closes the loan."""
    case = session.get(CaseRow, case_id)
    if case is None or case.fixmedins_code != fixmedins_code:
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    refused = loan_status_refusal(case, status=status, drawn=drawn, balance=balance)
    if refused is not None:
        raise refused
    details = {"status": status, "drawn": str(drawn), "balance": str(balance),
               "overdue_days": overdue_days}
    if status == "drawn" and case.state == CaseState.REPORTED.value:
        _apply(session, case, Command.MARK_DRAWN, actor=None, now=now, details=details)
    elif status == "closed" and case.state == CaseState.DRAWN.value:
        _apply(session, case, Command.MARK_CLOSED, actor=None, now=now, details=details)
    else:
        append_case_event(session, case_id=case.id, at=now, event="loan_status",
                          from_state=case.state, to_state=case.state, actor_id=None,
                          details=details)
        audit(session, at=now, actor="system", action="case.loan_status",
              target=f"case:{case.id}", details=details)
    case.loan_status = status
    case.loan_drawn = drawn
    case.loan_balance = balance
    case.overdue_days = overdue_days
    return case

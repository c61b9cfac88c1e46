"""Post-loan monitoring: runs the warning rules over borrowers' settlement data, publishes each
warning to the case's client manager, records the handling, escalates what is left unhandled."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import CAN_HANDLE_WARNING, Actor, Role
from yibaodai.db.models import (
    CaseRow,
    InstitutionEventRow,
    SettlementFactRow,
    UserRow,
    WarningRow,
)
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import CaseState
from yibaodai.domain.warnings import WARNING_RULES_VERSION, BureauEvent, detect
from yibaodai.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    YibaodaiError,
)
from yibaodai.features.settlement import monthly_fund_pay
from yibaodai.features.store import load_daily

MONITORED = (CaseState.REPORTED.value, CaseState.DRAWN.value)
ESCALATE_AFTER_WORKING_DAYS = 3


def run_monitoring(session: Session, *, now: datetime,
                   fixmedins_code: str | None = None) -> list[WarningRow]:
    """Run the warning rules as of ``now`` over every borrower (or only ``fixmedins_code``'s
    cases) and raise each new warning once per case, rule and period (so running again
    changes nothing). Returns the warnings raised."""
    raised: list[WarningRow] = []
    today = now.date()
    since = date(today.year - 1, today.month, 1)
    monitored = select(CaseRow).where(CaseRow.state.in_(MONITORED)).order_by(CaseRow.id)
    if fixmedins_code is not None:
        monitored = monitored.where(CaseRow.fixmedins_code == fixmedins_code)
    for case in session.scalars(monitored):
        rows = load_daily(session, case.fixmedins_code, since)
        last = session.scalar(select(func.max(SettlementFactRow.setl_date)).where(
            SettlementFactRow.fixmedins_code == case.fixmedins_code))
        events = tuple(BureauEvent(e.evt_type, e.evt_date, e.evt_desc) for e in session.scalars(
            select(InstitutionEventRow).where(
                InstitutionEventRow.fixmedins_code == case.fixmedins_code,
                InstitutionEventRow.evt_date >= case.assigned_at.date())))
        for signal in detect(monthly_fund_pay(rows), last_settlement=last, as_of=today,
                             events=events):
            exists = session.scalars(select(WarningRow.id).where(
                WarningRow.case_id == case.id, WarningRow.rule_code == signal.rule_code,
                WarningRow.period == signal.period)).first()
            if exists:
                continue
            warning = WarningRow(
                case_id=case.id, fixmedins_code=case.fixmedins_code,
                rule_code=signal.rule_code, rule_version=WARNING_RULES_VERSION,
                period=signal.period, raised_at=now, severity=signal.severity,
                inputs=signal.inputs, reasons=[{k: v for k, v in asdict(signal).items()
                                                if k in ("rule_code", "text_zh", "text_en")}],
                assigned_to=case.client_manager_id, state="open",
            )
            session.add(warning)
            session.flush()
            audit(session, at=now, actor="system", action="warning.raised",
                  target=f"warning:{warning.id}",
                  details={"case": case.id, "rule": signal.rule_code, "period": signal.period})
            raised.append(warning)
    return raised


def escalate_overdue(session: Session, *, now: datetime,
                     calendar: WorkingDayCalendar | None = None) -> list[WarningRow]:
    """Open warnings past their handling deadline go to the sub-branch department manager."""
    cal = calendar or WorkingDayCalendar()
    escalated: list[WarningRow] = []
    for warning in session.scalars(select(WarningRow).where(WarningRow.state == "open")):
        if cal.add_working_days(warning.raised_at, ESCALATE_AFTER_WORKING_DAYS) >= now:
            continue
        case = session.get(CaseRow, warning.case_id)
        assert case is not None
        manager = session.scalars(select(UserRow).where(
            UserRow.sub_branch_code == case.sub_branch_code,
            UserRow.role == "sub_branch_manager").order_by(UserRow.id)).first()
        warning.state = "escalated"
        warning.assigned_to = manager.id if manager else warning.assigned_to
        audit(session, at=now, actor="system", action="warning.escalated",
              target=f"warning:{warning.id}", details={"to": manager.username if manager else None})
        escalated.append(warning)
    return escalated


def visible_warning(session: Session, actor: Actor, warning_id: int) -> WarningRow:
    warning = session.get(WarningRow, warning_id)
    case = session.get(CaseRow, warning.case_id) if warning else None
    if warning is None or case is None or not actor.can_see_sub_branch(case.sub_branch_code):
        raise NotFound("预警不存在", "warning not found", code="warning_not_found")
    return warning


def handling_refusal(actor: Actor, warning: WarningRow) -> YibaodaiError | None:
    """Why ``actor`` may not handle ``warning`` (already in their scope) now, or None. The
    handling endpoint and the inbox's ``can_handle`` both ask this. A client manager handles
    the warnings assigned to them; once escalated, a warning is the department manager's."""
    if actor.role not in CAN_HANDLE_WARNING:
        return PermissionDenied("当前角色无权处理预警", "your role may not handle warnings",
                                code="role_not_allowed")
    if warning.state == "closed":
        return Conflict("预警已处理", "warning already handled", code="already_handled")
    if actor.role == Role.CLIENT_MANAGER and warning.assigned_to != actor.user_id:
        if warning.state == "escalated":
            return PermissionDenied("该预警已升级至部门经理处理",
                                    "this warning was escalated to the department manager",
                                    code="escalated")
        return PermissionDenied("该预警已指派给其他人员", "this warning is assigned to someone "
                                "else", code="not_assignee")
    return None


def handle_warning(session: Session, *, actor: Actor, warning_id: int, outcome: str,
                   now: datetime) -> WarningRow:
    warning = visible_warning(session, actor, warning_id)
    refused = handling_refusal(actor, warning)
    if refused is not None:
        raise refused
    text = outcome.strip()
    if not 2 <= len(text) <= 1000:
        raise ValidationFailed("请填写核查结论（2-1000字）", "outcome must be 2-1000 characters",
                               code="invalid_outcome",
                               fields=[FieldError("outcome", "2-1000字", "2-1000 characters")])
    warning.state, warning.outcome = "closed", text
    warning.handled_by, warning.handled_at = actor.user_id, now
    audit(session, at=now, actor=actor.username, action="warning.handled",
          target=f"warning:{warning.id}", details={"outcome": text})
    return warning


__all__ = ["escalate_overdue", "handle_warning", "handling_refusal", "run_monitoring",
           "visible_warning"]

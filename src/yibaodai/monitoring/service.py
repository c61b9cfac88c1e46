"""Post-loan monitoring: runs the warning rules over borrowers' settlement data, publishes each
warning to the case's client manager, records the handling, escalates what is left unhandled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import CAN_HANDLE_WARNING, Actor, Role
from yibaodai.cases.notify import notifier, notify_once
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.db.models import (
    CaseRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    NotificationRow,
    SettlementFactRow,
    UserRow,
    WarningRow,
)
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.events import Publish, WarningHandled, WarningLevelRaised, WarningRaised
from yibaodai.domain.ews.handling import (
    DEADLINE_WORKING_DAYS,
    OUTCOMES,
    escalation_due,
    handling_errors,
    level_went_up,
)
from yibaodai.domain.ews.history import (
    BorrowerHistory,
    BureauEvent,
    Disbursement,
    MonthFigures,
)
from yibaodai.domain.ews.rules import HISTORY_MONTHS, Signal, evaluate
from yibaodai.domain.months import month_key, previous_months
from yibaodai.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    YibaodaiError,
)
from yibaodai.monitoring.sources import MONITORED, external_history

OPEN_STATES = ("open", "escalated")


def borrower_history(session: Session, case: CaseRow, *, today: date) -> BorrowerHistory:
    """What the rules see of ``case``'s borrower as of ``today``: 37 months of settlement
    figures, bureau events since the case began, recent fund disbursements, head office's
    overdue report and the bureau's profile. Amounts are the stored fen-exact yuan."""
    code = case.fixmedins_code
    first = previous_months(today, HISTORY_MONTHS)[0]
    since = date(int(first[:4]), int(first[5:]), 1)
    months: dict[str, list[Decimal | int]] = {}
    for day, insutype, cnt, refd, fund in session.execute(
            select(SettlementFactRow.setl_date, SettlementFactRow.insutype,
                   SettlementFactRow.setl_cnt, SettlementFactRow.refd_setl_cnt,
                   SettlementFactRow.fund_pay_sumamt).where(
                SettlementFactRow.fixmedins_code == code, SettlementFactRow.setl_date >= since,
                SettlementFactRow.setl_date <= today)):
        acc = months.setdefault(month_key(day), [Decimal(0), 0, 0, Decimal(0)])
        acc[0] += fund
        acc[1] += cnt
        acc[2] += refd
        if insutype == "310":
            acc[3] += fund
    figures = {m: MonthFigures(float(a[0]), int(a[1]), int(a[2]),
                               round(float(Decimal(a[3]) / Decimal(a[0])), 4) if a[0] else None)
               for m, a in months.items()}
    last = session.scalar(select(func.max(SettlementFactRow.setl_date)).where(
        SettlementFactRow.fixmedins_code == code, SettlementFactRow.setl_date <= today))
    events = tuple(BureauEvent(e.evt_type, e.evt_date, e.evt_desc) for e in session.scalars(
        select(InstitutionEventRow).where(
            InstitutionEventRow.fixmedins_code == code,
            InstitutionEventRow.evt_date >= case.assigned_at.date(),
            InstitutionEventRow.evt_date <= today).order_by(InstitutionEventRow.id)))
    paid = tuple(Disbursement(f"{d.setlym[:4]}-{d.setlym[4:]}", d.fin_acen_time.date(),
                              float(d.dfr_sumamt)) for d in session.scalars(
        select(FundDisbursementRow).where(
            FundDisbursementRow.fixmedins_code == code,
            FundDisbursementRow.setlym >= first.replace("-", "")).order_by(
            FundDisbursementRow.setlym, FundDisbursementRow.dfr_id))
        if d.fin_acen_time.date() <= today)
    profile = session.get(InstitutionRow, code)
    external = external_history(session, code, since=case.assigned_at.date(), today=today)
    return BorrowerHistory(
        months=figures, last_settlement=last, events=events, disbursements=paid,
        overdue_days=case.overdue_days or 0,
        designation_end=profile.endtime if profile else None,
        credit_grade=profile.cred_lv_name if profile else None,
        watched_since=case.assigned_at.date(),
        extra={"external": external} if external else {})


def record_signal(session: Session, case: CaseRow, signal: Signal, *,
                  now: datetime) -> WarningRaised | WarningLevelRaised | None:
    """One open warning per borrower and signal: a signal already open is updated in place
    (its level, period, explanation and inputs follow the newest run), one handled for the
    same period is not raised again, anything else opens a new warning. Returns what the
    client manager must be told: a new warning, or an open one whose level went up."""
    reason = {"rule_code": signal.rule_code, "level": signal.level, "period": signal.period,
              "text_zh": signal.text_zh, "text_en": signal.text_en}
    same_period = session.scalars(select(WarningRow).where(
        WarningRow.case_id == case.id, WarningRow.rule_code == signal.rule_code,
        WarningRow.period == signal.period)).first()
    current = same_period if same_period is not None else session.scalars(
        select(WarningRow).where(WarningRow.case_id == case.id,
                                 WarningRow.rule_code == signal.rule_code,
                                 WarningRow.state.in_(OPEN_STATES))).first()
    if current is not None:
        if current.state not in OPEN_STATES:
            return None  # handled already for this period
        if (current.severity, current.period, current.reasons[-1:]) == (
                signal.level, signal.period, [reason]):
            return None
        before = current.severity
        current.severity, current.period = signal.level, signal.period
        current.rule_version, current.inputs = signal.rule_version, signal.inputs
        current.reasons = [*current.reasons, reason]
        audit(session, at=now, actor="system", action="warning.updated",
              target=f"warning:{current.id}",
              details={"level": signal.level, "period": signal.period})
        if not level_went_up(before, signal.level):
            return None
        return WarningLevelRaised(at=now, warning_id=current.id, case_id=case.id,
                                  rule_code=signal.rule_code, period=signal.period,
                                  level=signal.level, previous_level=before)
    warning = WarningRow(
        case_id=case.id, fixmedins_code=case.fixmedins_code, rule_code=signal.rule_code,
        rule_version=signal.rule_version, period=signal.period, raised_at=now,
        severity=signal.level, inputs=signal.inputs, reasons=[reason],
        assigned_to=case.client_manager_id, state="open")
    session.add(warning)
    session.flush()
    audit(session, at=now, actor="system", action="warning.raised",
          target=f"warning:{warning.id}",
          details={"case": case.id, "rule": signal.rule_code, "period": signal.period,
                   "level": signal.level})
    return WarningRaised(at=now, warning_id=warning.id, case_id=case.id,
                         rule_code=signal.rule_code, period=signal.period)


def monitoring_events(session: Session, *, now: datetime, fixmedins_code: str | None = None,
                      ) -> list[WarningRaised | WarningLevelRaised]:
    """Run the warning rules (``domain.ews.rules``) as of ``now`` over every monitored
    borrower (or only ``fixmedins_code``'s cases). Running again changes nothing. Returns
    the new warnings and the raised levels, as events to publish (``flow.handlers``)."""
    events: list[WarningRaised | WarningLevelRaised] = []
    today = now.date()
    monitored = select(CaseRow).where(CaseRow.state.in_(MONITORED)).order_by(CaseRow.id)
    if fixmedins_code is not None:
        monitored = monitored.where(CaseRow.fixmedins_code == fixmedins_code)
    for case in session.scalars(monitored):
        for signal in evaluate(borrower_history(session, case, today=today), today):
            event = record_signal(session, case, signal, now=now)
            if event is not None:
                events.append(event)
    return events


def run_monitoring(session: Session, *, now: datetime,
                   fixmedins_code: str | None = None) -> list[WarningRow]:
    """:func:`monitoring_events`, returning the warnings newly raised."""
    return [session.get_one(WarningRow, e.warning_id)
            for e in monitoring_events(session, now=now, fixmedins_code=fixmedins_code)
            if isinstance(e, WarningRaised)]


def escalate_overdue(session: Session, *, now: datetime,
                     calendar: WorkingDayCalendar | None = None,
                     deadline_days: Mapping[str, int] = DEADLINE_WORKING_DAYS,
                     ) -> list[WarningRow]:
    """Unhandled warnings past their level's deadline (``deadline_days``, in working days)
    go to the sub-branch department manager; past twice the deadline the branch's managers
    are told too. Each step is written once (the warning's ``escalation``) and each person
    told once (the inbox key), so running again changes nothing."""
    cal = calendar or bank_calendar()
    escalated: list[WarningRow] = []
    notices: list[NotificationRow] = []
    for warning in session.scalars(select(WarningRow).where(
            WarningRow.state.in_(OPEN_STATES)).order_by(WarningRow.id)):
        step = escalation_due(warning.severity, warning.raised_at, now, cal,
                              escalated=warning.escalation or (
                                  "department" if warning.state == "escalated" else None),
                              days_by_level=deadline_days)
        if step is None:
            continue
        case = session.get_one(CaseRow, warning.case_id)
        told: list[tuple[str, UserRow]] = []
        if step == "department" or warning.state == "open":
            managers = list(session.scalars(select(UserRow).where(
                UserRow.sub_branch_code == case.sub_branch_code, UserRow.active.is_(True),
                UserRow.role == Role.SUB_BRANCH_MANAGER.value).order_by(UserRow.id)))
            if managers:
                warning.assigned_to = managers[0].id
            told += [("department", m) for m in managers]
            audit(session, at=now, actor="system", action="warning.escalated",
                  target=f"warning:{warning.id}",
                  details={"to": managers[0].username if managers else None,
                           "step": "department"})
        if step == "branch":
            branch = list(session.scalars(select(UserRow).where(
                UserRow.role == Role.BRANCH_MANAGER.value, UserRow.active.is_(True))
                .order_by(UserRow.id)))
            told += [("branch", b) for b in branch]
            audit(session, at=now, actor="system", action="warning.escalated",
                  target=f"warning:{warning.id}",
                  details={"to": branch[0].username if branch else None, "step": "branch"})
        for level, user in told:
            to_zh = "支行部门经理" if level == "department" else "分行"
            notice = notify_once(
                session, key=f"warning-escalation:{warning.id}:{level}:{user.id}",
                user_id=user.id, at=now, kind=f"warning_escalation_{level}", case_id=case.id,
                message_zh=f"预警{warning.id}（案件{case.id}，{warning.rule_code}）逾期未处理，"
                           f"已升级至{to_zh}",
                message_en=f"warning {warning.id} (case {case.id}, {warning.rule_code}) not "
                           f"handled in time: escalated to the {level}")
            if notice is not None:
                notices.append(notice)
        warning.state, warning.escalation = "escalated", step
        escalated.append(warning)
    session.flush()
    for notice in notices:
        notifier().send(notice)
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
    if actor.role == Role.BRANCH_MANAGER and warning.escalation != "branch":
        return PermissionDenied("分行仅处理已升级至分行的预警",
                                "the branch handles only warnings escalated to the branch",
                                code="not_escalated_to_branch")
    if actor.role == Role.CLIENT_MANAGER and warning.assigned_to != actor.user_id:
        if warning.state == "escalated":
            return PermissionDenied("该预警已升级至部门经理处理",
                                    "this warning was escalated to the department manager",
                                    code="escalated")
        return PermissionDenied("该预警已指派给其他人员", "this warning is assigned to someone "
                                "else", code="not_assignee")
    return None


def handle_warning(session: Session, *, actor: Actor, warning_id: int, outcome: str,
                   now: datetime, publish: Publish, outcome_kind: str | None = None,
                   action: str | None = None) -> WarningRow:
    """Record the post-loan check: the note, and (when given — the old form sent only the
    note) what it found and what the bank does (``domain.ews.handling``). ``WarningHandled``
    is published in the same unit of work: "reduce limit" and "freeze" go to head office
    through its handler (``monitoring.limit_actions``)."""
    warning = visible_warning(session, actor, warning_id)
    refused = handling_refusal(actor, warning)
    if refused is not None:
        raise refused
    text = outcome.strip()
    fields = [] if 2 <= len(text) <= 1000 else [
        FieldError("outcome", "2-1000字", "2-1000 characters")]
    if outcome_kind is not None or action is not None:
        fields += handling_errors(outcome_kind, action)
    if fields:
        raise ValidationFailed("处置记录不完整或有误", "the handling record is incomplete or "
                               "wrong", code="invalid_outcome", fields=fields)
    warning.state, warning.outcome = "closed", text
    warning.outcome_kind, warning.action = outcome_kind, action
    warning.handled_by, warning.handled_at = actor.user_id, now
    audit(session, at=now, actor=actor.username, action="warning.handled",
          target=f"warning:{warning.id}",
          details={"outcome": text, "outcome_kind": outcome_kind, "action": action})
    publish(session, [WarningHandled(
        at=now, warning_id=warning.id, case_id=warning.case_id,
        fixmedins_code=warning.fixmedins_code, outcome_kind=outcome_kind, action=action,
        handled_by=actor.user_id)])
    return warning


def outcome_counts(session: Session, actor: Actor) -> dict[str, dict[str, int]]:
    """Per rule, the warnings in ``actor``'s scope by outcome (and those not yet handled):
    the labels the branch tunes its rules on."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(select(WarningRow.rule_code, WarningRow.state,
                                  WarningRow.outcome_kind, CaseRow.sub_branch_code).join(
        CaseRow, CaseRow.id == WarningRow.case_id))
    for rule, state, kind, sub_branch in rows:
        if not actor.can_see_sub_branch(sub_branch):
            continue
        key = "open" if state in OPEN_STATES else (kind or "unlabelled")
        per_rule = counts.setdefault(rule, {k: 0 for k in (*OUTCOMES, "unlabelled", "open")})
        per_rule[key] += 1
    return dict(sorted(counts.items()))


__all__ = ["borrower_history", "escalate_overdue", "handle_warning", "handling_refusal",
           "monitoring_events", "outcome_counts", "record_signal", "run_monitoring",
           "visible_warning"]

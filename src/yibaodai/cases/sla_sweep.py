"""The SLA sweep, the one the worker runs and ``yibaodai sla sweep`` runs: for every open
case, a reminder to whoever must act half a working day before the deadline; once a deadline
is missed, the breach (a penalty on the sub-branch, a case event, an audit row) and an
escalation to the sub-branch's managers; a breach still unresolved one working day later
goes on to the branch managers. Idempotent: every notice and breach is written once, so a
sweep repeated at the same or a later instant adds only what became due since."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.cases.events import append_case_event
from yibaodai.cases.notify import Notifier, notify_once
from yibaodai.cases.notify import notifier as current_notifier
from yibaodai.cases.sla_policy import bank_calendar, calendar_warning
from yibaodai.db.models import CaseRow, NotificationRow, SlaPenaltyRow, UserRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import CaseState
from yibaodai.domain.roles import Role
from yibaodai.domain.sla import (
    DEFAULT_POLICY,
    SlaBreach,
    SlaPolicy,
    as_midnight,
    branch_escalation_at,
    due,
    find_breach_under,
    penalty_end,
    reminder_at,
)

#: States whose SLA the sweep still judges (a late claim or verification is found even when
#: the step was done before the sweep ran).
JUDGED = (CaseState.ASSIGNED.value, CaseState.CLAIMED.value, CaseState.VERIFIED.value,
          CaseState.REJECTED.value)
STEP_ZH = {"claim": "认领", "verification": "核实"}


@dataclass
class SweepResult:
    reminders: list[NotificationRow] = field(default_factory=list)
    breaches: list[SlaPenaltyRow] = field(default_factory=list)
    escalations: list[NotificationRow] = field(default_factory=list)
    calendar_warning: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"reminders": len(self.reminders), "breaches": len(self.breaches),
                "escalations": len(self.escalations), "calendar_warning": self.calendar_warning,
                "breached_cases": [b.case_id for b in self.breaches]}


def _staff(session: Session, role: Role, sub_branch: str | None) -> list[int]:
    query = select(UserRow.id).where(UserRow.role == role.value, UserRow.active.is_(True))
    if sub_branch is not None:
        query = query.where(UserRow.sub_branch_code == sub_branch)
    return list(session.scalars(query.order_by(UserRow.id)))


def _pending_step(case: CaseRow) -> tuple[str, datetime] | None:
    """The step the case waits for and when that wait began."""
    if case.state == CaseState.ASSIGNED.value:
        return "claim", case.assigned_at
    if case.state == CaseState.CLAIMED.value and case.claimed_at is not None:
        return "verification", case.claimed_at
    return None


def _responsible(session: Session, case: CaseRow) -> list[int]:
    """Who must act: the holder; an unclaimed case without one, its sub-branch's managers."""
    if case.client_manager_id is not None:
        return [case.client_manager_id]
    return _staff(session, Role.SUB_BRANCH_MANAGER, case.sub_branch_code)


def run_sweep(session: Session, *, now: datetime, calendar: WorkingDayCalendar | None = None,
              policy: SlaPolicy = DEFAULT_POLICY,
              notifier: Notifier | None = None) -> SweepResult:
    cal = calendar or bank_calendar()
    out = SweepResult(calendar_warning=calendar_warning(cal, now))
    for case in session.scalars(select(CaseRow).where(CaseRow.state.in_(JUDGED))
                                .order_by(CaseRow.id)).all():
        _remind(session, case, now=now, cal=cal, policy=policy, out=out)
        breach = find_breach_under(policy, assigned_at=case.assigned_at,
                                   claimed_at=case.claimed_at, verified_at=case.verified_at,
                                   now=now, cal=cal)
        if breach is not None:
            _record_breach(session, case, breach, now=now, policy=policy, out=out)
            _escalate(session, case, breach, now=now, cal=cal, out=out)
    session.flush()
    for notice in [*out.reminders, *out.escalations]:
        (notifier or current_notifier()).send(notice)
    return out


def sweep(session: Session, *, now: datetime,
          calendar: WorkingDayCalendar | None = None,
          policy: SlaPolicy = DEFAULT_POLICY) -> list[SlaPenaltyRow]:
    """The new breaches of :func:`run_sweep` (kept for callers that only penalise)."""
    return run_sweep(session, now=now, calendar=calendar, policy=policy).breaches


def _remind(session: Session, case: CaseRow, *, now: datetime, cal: WorkingDayCalendar,
            policy: SlaPolicy, out: SweepResult) -> None:
    pending = _pending_step(case)
    if pending is None:
        return
    step, since = pending
    days = policy.claim_working_days if step == "claim" else policy.verify_working_days
    deadline = due(since, days, cal)
    if step == "claim" and case.claim_deadline != deadline:
        case.claim_deadline = deadline  # the configured policy is the one shown
    if step == "verification" and case.verification_deadline != deadline:
        case.verification_deadline = deadline
    if not reminder_at(deadline) <= now <= deadline:
        return
    due_text = as_midnight(deadline).isoformat()
    for user_id in _responsible(session, case):
        row = notify_once(
            session, key=f"reminder:{case.id}:{step}:{deadline.date()}:{user_id}",
            user_id=user_id, at=now, kind="sla_reminder", case_id=case.id,
            message_zh=f"案件{case.id}须在{due_text}前完成{STEP_ZH[step]}",
            message_en=f"case {case.id}: {step} due by {due_text}")
        if row is not None:
            out.reminders.append(row)


def _record_breach(session: Session, case: CaseRow, breach: SlaBreach, *, now: datetime,
                   policy: SlaPolicy, out: SweepResult) -> None:
    exists = session.scalars(select(SlaPenaltyRow.id).where(
        SlaPenaltyRow.case_id == case.id, SlaPenaltyRow.kind == breach.kind)).first()
    if exists:
        return
    row = SlaPenaltyRow(sub_branch_code=case.sub_branch_code, case_id=case.id,
                        kind=breach.kind, deadline=breach.deadline,
                        detected_at=breach.detected_at, until=penalty_end(policy, breach))
    session.add(row)
    details = {"kind": breach.kind, "deadline": as_midnight(breach.deadline).isoformat(),
               "sub_branch": case.sub_branch_code,
               "penalty_until": row.until.isoformat()}
    append_case_event(session, case_id=case.id, at=now, event="sla_breach",
                      from_state=case.state, to_state=case.state, actor_id=None,
                      details=details)
    audit(session, at=now, actor="system", action="sla.breach", target=f"case:{case.id}",
          details=details)
    out.breaches.append(row)


def _still_pending(case: CaseRow, kind: str) -> bool:
    pending = _pending_step(case)
    return pending is not None and pending[0] == kind


def _escalate(session: Session, case: CaseRow, breach: SlaBreach, *, now: datetime,
              cal: WorkingDayCalendar, out: SweepResult) -> None:
    if not _still_pending(case, breach.kind):
        return
    levels: list[tuple[str, list[int]]] = [
        ("sub_branch", _staff(session, Role.SUB_BRANCH_MANAGER, case.sub_branch_code))]
    if now > branch_escalation_at(breach, cal):
        levels.append(("branch", _staff(session, Role.BRANCH_MANAGER, None)))
    step = STEP_ZH[breach.kind]
    for level, users in levels:
        to_zh = "支行部门经理" if level == "sub_branch" else "分行"
        for user_id in users:
            row = notify_once(
                session, key=f"escalation:{level}:{case.id}:{breach.kind}:{user_id}",
                user_id=user_id, at=now, kind=f"sla_escalation_{level}", case_id=case.id,
                message_zh=f"案件{case.id}（{case.sub_branch_code}）{step}超时，已上报{to_zh}",
                message_en=f"case {case.id} ({case.sub_branch_code}): {breach.kind} overdue, "
                           f"escalated to the {level.replace('_', '-')}")
            if row is not None:
                out.escalations.append(row)

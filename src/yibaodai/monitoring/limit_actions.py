""""Reduce limit" (压降额度) and "freeze" (冻结额度) decided when a warning is handled: reported
to head office through the outbox (infno 8502, one message per warning, keyed by it) and shown
on the case — a case event when it is sent, another when head office acknowledges, and the
case's current limit action (its newest). Handlers registered in ``flow.handlers``; both are
idempotent (one row and one outbox message per warning; the acknowledgement once)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.cases.events import append_case_event
from yibaodai.db.models import CaseRow, InstitutionRow, LimitActionRow, UserRow, WarningRow
from yibaodai.domain.events import MessageDelivered, WarningHandled
from yibaodai.domain.ews.handling import REPORTED_ACTIONS
from yibaodai.outbound.outbox import HEAD_OFFICE, KIND_LIMIT_ACTION, enqueue


def outbox_key(warning_id: int) -> str:
    return f"limit-action-warning-{warning_id}"


def report_limit_action(session: Session, event: WarningHandled) -> None:
    """A handled warning whose action head office must hear of becomes a limit action and
    an outbox message to head office, in the same unit of work as the handling."""
    if event.action not in REPORTED_ACTIONS:
        return
    key = outbox_key(event.warning_id)
    if session.scalars(select(LimitActionRow.id).where(
            LimitActionRow.outbox_key == key)).first() is not None:
        return
    case = session.get_one(CaseRow, event.case_id)
    warning = session.get_one(WarningRow, event.warning_id)
    inst = session.get(InstitutionRow, case.fixmedins_code)
    by = session.get(UserRow, event.handled_by)
    session.add(LimitActionRow(
        case_id=case.id, warning_id=warning.id, action=event.action, requested_at=event.at,
        requested_by=event.handled_by, outbox_key=key, status="pending"))
    payload = {
        "case_id": case.id, "fixmedins_code": case.fixmedins_code,
        "fixmedins_name": inst.fixmedins_name if inst else None,
        "uscc": inst.uscc if inst else None, "action": event.action,
        "warning_id": warning.id, "rule_code": warning.rule_code, "level": warning.severity,
        "outcome_kind": event.outcome_kind, "credit_limit": str(case.credit_limit),
        "sub_branch": case.sub_branch_code, "decided_by": by.staff_no if by else None,
        "decided_at": event.at.isoformat()}
    enqueue(session, destination=HEAD_OFFICE, kind=KIND_LIMIT_ACTION, idempotency_key=key,
            payload=payload, now=event.at)
    details = {"action": event.action, "warning_id": warning.id, "outbox_key": key}
    append_case_event(session, case_id=case.id, at=event.at, event="limit_action_requested",
                      from_state=case.state, to_state=case.state, actor_id=event.handled_by,
                      details=details)
    audit(session, at=event.at, actor=by.username if by else "system",
          action="warning.limit_action", target=f"case:{case.id}", details=details)


def record_limit_action_ack(session: Session, event: MessageDelivered) -> None:
    """Head office acknowledged a limit action: the case shows it as in force."""
    if event.kind != KIND_LIMIT_ACTION:
        return
    row = session.scalars(select(LimitActionRow).where(
        LimitActionRow.outbox_key == event.idempotency_key)).first()
    if row is None or row.status == "acknowledged":
        return
    row.status, row.acknowledged_at = "acknowledged", event.at
    row.ho_ref = str(event.answer.get("ho_ref") or "")[:40] or None
    case = session.get_one(CaseRow, row.case_id)
    append_case_event(session, case_id=case.id, at=event.at, event="limit_action_acknowledged",
                      from_state=case.state, to_state=case.state, actor_id=None,
                      details={"action": row.action, "warning_id": row.warning_id,
                               "ho_ref": row.ho_ref})


def case_limit_actions(session: Session, case_id: int) -> list[LimitActionRow]:
    """The case's limit actions, newest first (the first is the one in force)."""
    return list(session.scalars(select(LimitActionRow).where(
        LimitActionRow.case_id == case_id).order_by(LimitActionRow.id.desc())))


__all__ = ["case_limit_actions", "outbox_key", "record_limit_action_ack",
           "report_limit_action"]

"""What the cases do when something happens elsewhere (registered in ``flow.handlers``):
open a case for an admitted institution, queue the whitelist entry to head office once a
case is confirmed, mark it reported when head office acknowledges, apply head office's loan
status. Each is idempotent: handling the same event again changes nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibaodai.cases.assignment import assign_case, open_case
from yibaodai.cases.service import apply_loan_status, mark_reported
from yibaodai.db.models import CaseRow, DecisionRow, InstitutionRow, UserRow
from yibaodai.domain.events import (
    CaseAssigned,
    CaseConfirmed,
    DecisionMade,
    LoanStatusReported,
    MessageDelivered,
)
from yibaodai.outbound.outbox import HEAD_OFFICE, KIND_WHITELIST_ENTRY, enqueue


def open_case_if_admitted(session: Session, event: DecisionMade) -> list[CaseAssigned]:
    """An admitted institution without an open case gets one, in the nearest serving
    sub-branch; a re-evaluation keeps the open case it has."""
    if event.result != "admitted" or open_case(session, event.fixmedins_code) is not None:
        return []
    decision = session.get(DecisionRow, event.decision_id)
    inst = session.get(InstitutionRow, event.fixmedins_code)
    assert decision is not None and inst is not None
    case = assign_case(session, decision=decision, inst=inst, now=event.at)
    return [CaseAssigned(at=event.at, case_id=case.id, fixmedins_code=case.fixmedins_code,
                         sub_branch_code=case.sub_branch_code, decision_id=decision.id)]


def queue_whitelist_entry(session: Session, event: CaseConfirmed) -> None:
    """The confirmed whitelist entry goes to head office (step 7) through the outbox."""
    case = session.get(CaseRow, event.case_id)
    inst = session.get(InstitutionRow, event.fixmedins_code)
    assert case is not None and inst is not None
    manager = session.get(UserRow, case.client_manager_id) if case.client_manager_id else None
    enqueue(session, destination=HEAD_OFFICE, kind=KIND_WHITELIST_ENTRY,
            idempotency_key=f"whitelist-case-{case.id}", now=event.at, payload={
                "case_id": case.id, "fixmedins_code": inst.fixmedins_code,
                "fixmedins_name": inst.fixmedins_name, "uscc": inst.uscc,
                "credit_limit": str(event.credit_limit), "sub_branch": case.sub_branch_code,
                "client_manager": manager.staff_no if manager else None,
                "bankacct": inst.bankacct, "confirmed_at": event.at.isoformat(),
            })


def record_head_office_receipt(session: Session, event: MessageDelivered) -> None:
    """Head office acknowledged a whitelist entry: the case is reported."""
    if event.kind == KIND_WHITELIST_ENTRY:
        mark_reported(session, case_id=int(event.payload["case_id"]), now=event.at,
                      ack=event.answer)


def record_loan_status(session: Session, event: LoanStatusReported) -> None:
    apply_loan_status(session, fixmedins_code=event.fixmedins_code, case_id=event.case_id,
                      status=event.status, drawn=event.drawn_amount, balance=event.balance,
                      overdue_days=event.overdue_days, now=event.at)

"""Admission's part of the flow (registered in ``flow.handlers``): new data, a new profile,
an authorization or a bureau event may call for a decision (step 2); every decision is
answered to the bureau (step 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from yibaodai.admission.service import latest_decision, make_decision, should_decide
from yibaodai.cases.assignment import open_case
from yibaodai.db.models import DecisionRow, InstitutionRow, SubBranchRow
from yibaodai.domain.events import (
    AuthorizationGranted,
    BureauEventRecorded,
    DecisionMade,
    ProfileChanged,
    SettlementDataStored,
)
from yibaodai.outbound.outbox import BUREAU, KIND_ADMISSION_RESULT, enqueue

#: The transaction each event comes from, recorded in the decision's trigger
#: (``infno-8301/first``; docs/admission.md).
TRIGGER_INFNO: dict[type[Any], str] = {
    AuthorizationGranted: "8101", ProfileChanged: "8201", BureauEventRecorded: "8202",
    SettlementDataStored: "8301"}

Arrival = AuthorizationGranted | ProfileChanged | BureauEventRecorded | SettlementDataStored


def decision_made(decision: DecisionRow, *, supersedes: int | None) -> DecisionMade:
    return DecisionMade(at=decision.decided_at, decision_id=decision.id,
                        fixmedins_code=decision.fixmedins_code, result=decision.result,
                        credit_limit=decision.credit_limit, supersedes=supersedes)


def consider_decision(session: Session, event: Arrival) -> list[DecisionMade]:
    """A first decision, or a re-evaluation on material change (``should_decide``)."""
    code, now = event.fixmedins_code, event.at
    if not should_decide(session, code, now):
        return []
    previous = latest_decision(session, code)
    decision = make_decision(session, code=code, trigger=f"infno-{TRIGGER_INFNO[type(event)]}",
                             now=now)
    return [decision_made(decision, supersedes=previous.id if previous else None)]


def queue_bureau_answer(session: Session, event: DecisionMade) -> None:
    """The answer to the bureau (8901), queued in the deciding transaction; an admitted
    institution learns its sub-branch, so it runs after the case is opened."""
    decision = session.get(DecisionRow, event.decision_id)
    inst = session.get(InstitutionRow, event.fixmedins_code)
    assert decision is not None and inst is not None
    answer: dict[str, Any] = {
        "fixmedins_code": inst.fixmedins_code, "fixmedins_name": inst.fixmedins_name,
        "decision_id": decision.id, "result": decision.result,
        "credit_limit": str(decision.credit_limit), "reasons": decision.reasons,
        "decided_at": decision.decided_at.isoformat(), "model_version": decision.rule_version,
        "supersedes": event.supersedes,
    }
    case = open_case(session, inst.fixmedins_code) if decision.result == "admitted" else None
    if case is not None:
        branch = session.get(SubBranchRow, case.sub_branch_code)
        assert branch is not None
        answer["sub_branch"] = {"code": branch.code, "name": branch.name_zh,
                                "phone": branch.phone, "address": branch.address}
    enqueue(session, destination=BUREAU, kind=KIND_ADMISSION_RESULT,
            idempotency_key=f"decision-{decision.id}", payload=answer, now=event.at)

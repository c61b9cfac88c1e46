"""Read side for the API and pages: scoped queries, one place for the data-scope filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor
from yibaodai.db.models import CaseRow, DecisionRow, InstitutionRow, UserRow, WarningRow
from yibaodai.domain.case import STATE_NAMES_ZH, CaseState


def scoped_cases(actor: Actor) -> Select[tuple[CaseRow, InstitutionRow]]:
    stmt = select(CaseRow, InstitutionRow).join(
        InstitutionRow, InstitutionRow.fixmedins_code == CaseRow.fixmedins_code)
    scope = actor.sub_branch_scope()
    if scope is not None:
        stmt = stmt.where(CaseRow.sub_branch_code.in_(sorted(scope)))
    return stmt.order_by(CaseRow.id)


def case_summary(case: CaseRow, inst: InstitutionRow) -> dict[str, Any]:
    return {
        "id": case.id, "fixmedins_code": case.fixmedins_code,
        "fixmedins_name": inst.fixmedins_name, "area_code": inst.area_code,
        "sub_branch_code": case.sub_branch_code, "state": case.state,
        "state_zh": STATE_NAMES_ZH[CaseState(case.state)],
        "credit_limit": str(case.credit_limit), "assigned_at": case.assigned_at.isoformat(),
        "claim_deadline": case.claim_deadline.isoformat(),
        "claimed_at": case.claimed_at.isoformat() if case.claimed_at else None,
        "verification_deadline": (case.verification_deadline.isoformat()
                                  if case.verification_deadline else None),
        "client_manager_id": case.client_manager_id, "loan_status": case.loan_status,
        "loan_drawn": str(case.loan_drawn) if case.loan_drawn is not None else None,
    }


def list_cases(session: Session, actor: Actor, state: str | None = None) -> list[dict[str, Any]]:
    stmt = scoped_cases(actor)
    if state:
        stmt = stmt.where(CaseRow.state == state)
    return [case_summary(c, i) for c, i in session.execute(stmt).all()]


def decision_view(decision: DecisionRow, *, with_inputs: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": decision.id, "result": decision.result,
        "credit_limit": str(decision.credit_limit), "reasons": decision.reasons,
        "rule_version": decision.rule_version, "decided_at": decision.decided_at.isoformat(),
    }
    if with_inputs:
        out["inputs"] = decision.inputs
    return out


def scoped_warnings(session: Session, actor: Actor) -> list[dict[str, Any]]:
    stmt = select(WarningRow, CaseRow, InstitutionRow).join(
        CaseRow, CaseRow.id == WarningRow.case_id).join(
        InstitutionRow, InstitutionRow.fixmedins_code == WarningRow.fixmedins_code)
    scope = actor.sub_branch_scope()
    if scope is not None:
        stmt = stmt.where(CaseRow.sub_branch_code.in_(sorted(scope)))
    names = dict(session.execute(select(UserRow.id, UserRow.display_name)).tuples().all())
    return [{
        "id": w.id, "case_id": c.id, "fixmedins_code": w.fixmedins_code,
        "fixmedins_name": i.fixmedins_name, "sub_branch_code": c.sub_branch_code,
        "rule_code": w.rule_code, "rule_version": w.rule_version, "period": w.period,
        "severity": w.severity, "state": w.state, "reasons": w.reasons,
        "raised_at": w.raised_at.isoformat(), "assigned_to": names.get(w.assigned_to or -1),
        "outcome": w.outcome,
    } for w, c, i in session.execute(stmt.order_by(WarningRow.id.desc())).all()]

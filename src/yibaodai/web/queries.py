"""Read side for the API and pages: scoped queries, one place for the data-scope filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor, Role
from yibaodai.cases.service import visible_case
from yibaodai.db.models import (
    CaseEventRow,
    CaseRow,
    DecisionRow,
    InstitutionRow,
    SubBranchRow,
    UserRow,
    WarningRow,
)
from yibaodai.domain.case import STATE_NAMES_ZH, CaseState

#: Who sees which personal or account identifier unmasked. The compliance office owns these
#: rules; they live here, in one place, as configuration.
UNMASKED_ROLES: dict[str, frozenset[Role]] = {
    "legrep_name": frozenset({Role.BRANCH_ADMIN, Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    "bankacct": frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
}

EVENT_NAMES = {
    "assigned": ("自动分配", "assigned"),
    "claim": ("认领", "claimed"),
    "verify_pass": ("核实通过", "verification passed"),
    "verify_fail": ("核实不通过", "verification failed"),
    "confirm": ("部门经理确认", "confirmed by department manager"),
    "mark_reported": ("已上报总行", "reported to head office"),
    "mark_drawn": ("已放款", "loan drawn"),
    "mark_closed": ("已结清", "loan closed"),
}

WARNING_STATE_NAMES = {"open": "待处理", "escalated": "已升级", "closed": "已处理"}


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


def list_cases(session: Session, actor: Actor, state: str | None = None,
               sub_branch: str | None = None) -> list[dict[str, Any]]:
    """Cases in the actor's scope; ``sub_branch`` narrows further, never widens."""
    stmt = scoped_cases(actor)
    if state:
        stmt = stmt.where(CaseRow.state == state)
    if sub_branch:
        stmt = stmt.where(CaseRow.sub_branch_code == sub_branch)
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
        "severity": w.severity, "state": w.state,
        "state_zh": WARNING_STATE_NAMES.get(w.state, w.state), "reasons": w.reasons,
        "raised_at": w.raised_at.isoformat(), "assigned_to": names.get(w.assigned_to or -1),
        "outcome": w.outcome,
    } for w, c, i in session.execute(stmt.order_by(WarningRow.id.desc())).all()]


def mask_name(name: str | None) -> str:
    """王小明 -> 王**: the family name stays, the given name is hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_account(account: str | None) -> str:
    """Only the last four digits stay visible."""
    if not account:
        return ""
    return "*" * max(len(account) - 4, 4) + account[-4:]


def _unmasked(actor: Actor, field: str) -> bool:
    return actor.role in UNMASKED_ROLES[field]


def sub_branch_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(SubBranchRow.code, SubBranchRow.name_zh)
                                .order_by(SubBranchRow.code)).tuples().all())


def case_detail(session: Session, actor: Actor, case_id: int) -> dict[str, Any]:
    """Everything the case page shows, already scoped and masked for ``actor``. Raises
    NotFound for unknown and out-of-scope ids alike."""
    case = visible_case(session, actor, case_id)
    inst = session.get(InstitutionRow, case.fixmedins_code)
    decision = session.get(DecisionRow, case.decision_id)
    assert inst is not None and decision is not None
    names = dict(session.execute(select(UserRow.id, UserRow.display_name)).tuples().all())
    events = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case.id)
                             .order_by(CaseEventRow.at, CaseEventRow.id)).all()
    sees_data = actor.sees_settlement_data
    features: dict[str, Any] = decision.inputs.get("features", {}) if sees_data else {}
    monthly = features.get("monthly_fund_pay_12m", {})
    return {
        "case": case_summary(case, inst),
        "version": case.version,
        "institution": {
            "fixmedins_code": inst.fixmedins_code, "fixmedins_name": inst.fixmedins_name,
            "uscc": inst.uscc, "area_code": inst.area_code or "", "addr": inst.addr or "",
            "biz_stas": inst.biz_stas or "", "cred_lv_name": inst.cred_lv_name or "",
            "legrep_name": (inst.legrep_name or "") if _unmasked(actor, "legrep_name")
            else mask_name(inst.legrep_name),
            "bankacct": (inst.bankacct or "") if _unmasked(actor, "bankacct")
            else mask_account(inst.bankacct),
        },
        "sub_branch_name": sub_branch_names(session).get(case.sub_branch_code,
                                                         case.sub_branch_code),
        "client_manager": names.get(case.client_manager_id or -1),
        "decision": decision_view(decision, with_inputs=sees_data),
        "timeline": [{
            "at": e.at.isoformat(), "event": e.event,
            "event_zh": EVENT_NAMES.get(e.event, (e.event, e.event))[0],
            "event_en": EVENT_NAMES.get(e.event, (e.event, e.event))[1],
            "from_state": e.from_state, "to_state": e.to_state,
            "to_state_zh": STATE_NAMES_ZH.get(CaseState(e.to_state), e.to_state),
            "actor": names.get(e.actor_id or -1, "系统 system"),
            "note": str(e.details.get("note", "")) if e.details else "",
        } for e in events],
        "monthly_fund_pay": sorted(monthly.items()),
        "features": {k: v for k, v in features.items() if k != "monthly_fund_pay_12m"},
    }

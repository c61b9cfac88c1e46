"""The JSON API (OpenAPI at /docs): staff actions and scoped reads. Writes commit here, in
the service layer's unit of work, with their audit rows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from yibaodai.audit.log import record as audit
from yibaodai.auth.passwords import verify_password
from yibaodai.auth.roles import Actor
from yibaodai.cases import service as cases
from yibaodai.db.models import CaseRow, DecisionRow, InstitutionRow, SettlementFactRow, UserRow
from yibaodai.errors import FieldError, NotFound, ValidationFailed
from yibaodai.monitoring.service import handle_warning
from yibaodai.web.deps import (
    Ctx,
    CurrentActor,
    DbSession,
    require_settlement_viewer,
    token_serializer,
)
from yibaodai.web.queries import case_summary, decision_view, list_cases, scoped_warnings

router = APIRouter(prefix="/api", tags=["api"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class VerificationRequest(BaseModel):
    checklist: dict[str, bool]
    note: str = Field(default="", max_length=1000)


class WarningOutcome(BaseModel):
    outcome: str = Field(max_length=1000)


@router.post("/auth/token")
def issue_token(body: TokenRequest, ctx: Ctx, s: DbSession) -> dict[str, Any]:
    user = s.scalars(select(UserRow).where(UserRow.username == body.username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, body.password):
        raise ValidationFailed("用户名或密码错误", "wrong username or password",
                               code="bad_credentials",
                               fields=[FieldError("password", "用户名或密码错误",
                                                  "wrong username or password")])
    audit(s, at=ctx.clock.now(), actor=user.username, action="auth.token", target="api")
    s.commit()
    return {"token": token_serializer(ctx).dumps(user.id), "role": user.role}


@router.get("/me")
def me(actor: CurrentActor) -> dict[str, Any]:
    return {"username": actor.username, "role": actor.role.value,
            "sub_branch_code": actor.sub_branch_code, "display_name": actor.display_name}


@router.get("/cases")
def get_cases(actor: CurrentActor, s: DbSession, state: str | None = None) -> list[dict[str, Any]]:
    return list_cases(s, actor, state)


@router.get("/cases/{case_id}")
def get_case(case_id: int, actor: CurrentActor, s: DbSession) -> dict[str, Any]:
    case = cases.visible_case(s, actor, case_id)
    inst = s.get(InstitutionRow, case.fixmedins_code)
    decision = s.get(DecisionRow, case.decision_id)
    assert inst is not None and decision is not None
    out = case_summary(case, inst)
    out["decision"] = decision_view(decision, with_inputs=actor.sees_settlement_data)
    return out


@router.post("/cases/{case_id}/claim")
def claim_case(case_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> dict[str, Any]:
    case = cases.claim(s, actor=actor, case_id=case_id, now=ctx.clock.now())
    s.commit()
    return {"id": case.id, "state": case.state}


@router.post("/cases/{case_id}/verification")
def verify_case(case_id: int, body: VerificationRequest, actor: CurrentActor, ctx: Ctx,
                s: DbSession) -> dict[str, Any]:
    case = cases.verify(s, actor=actor, case_id=case_id, checklist=body.checklist,
                        note=body.note, now=ctx.clock.now())
    s.commit()
    return {"id": case.id, "state": case.state}


@router.post("/cases/{case_id}/confirmation")
def confirm_case(case_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> dict[str, Any]:
    case = cases.confirm(s, actor=actor, case_id=case_id, now=ctx.clock.now(),
                         publish=ctx.publish)
    s.commit()
    return {"id": case.id, "state": case.state}


@router.get("/warnings")
def get_warnings(actor: CurrentActor, s: DbSession) -> list[dict[str, Any]]:
    return scoped_warnings(s, actor)


@router.post("/warnings/{warning_id}/outcome")
def record_warning_outcome(warning_id: int, body: WarningOutcome, actor: CurrentActor,
                           ctx: Ctx, s: DbSession) -> dict[str, Any]:
    warning = handle_warning(s, actor=actor, warning_id=warning_id, outcome=body.outcome,
                             now=ctx.clock.now())
    s.commit()
    return {"id": warning.id, "state": warning.state}


@router.get("/institutions/{code}/settlement")
def institution_settlement(code: str, s: DbSession,
                           actor: Actor = Depends(require_settlement_viewer)
                           ) -> dict[str, Any]:
    """Daily settlement summaries: department managers and above, within their scope."""
    case = s.scalars(select(CaseRow).where(CaseRow.fixmedins_code == code)).first()
    scope = actor.sub_branch_scope()
    if case is None or (scope is not None and case.sub_branch_code not in scope):
        raise NotFound("机构不存在", "institution not found", code="institution_not_found")
    rows = s.scalars(select(SettlementFactRow).where(SettlementFactRow.fixmedins_code == code)
                     .order_by(SettlementFactRow.setl_date.desc()).limit(400)).all()
    return {"fixmedins_code": code, "rows": [{
        "setl_date": r.setl_date.isoformat(), "insutype": r.insutype, "clr_type": r.clr_type,
        "setl_cnt": r.setl_cnt, "medfee_sumamt": str(r.medfee_sumamt),
        "fund_pay_sumamt": str(r.fund_pay_sumamt)} for r in rows]}

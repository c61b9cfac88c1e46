"""Settlement data for department managers and above, within their scope: the institution
view, the daily summaries and the data-quality flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from sqlalchemy import select

from yibaodai.db.models import CaseRow, DataQualityFlagRow, InstitutionRow, SettlementFactRow
from yibaodai.reports.institutions import InstitutionView, institution_view
from yibaodai.reports.masking import masking_rules
from yibaodai.reports.scope import Scope
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Out, send

router = api_router("institutions")
MAX_FLAGS = 1000


class DailyRow(Out):
    setl_date: date
    insutype: str
    clr_type: str
    setl_cnt: int
    medfee_sumamt: str
    fund_pay_sumamt: str


class DailySettlement(Out):
    fixmedins_code: str
    rows: list[DailyRow]


class QualityFlag(Out):
    id: int
    fixmedins_code: str
    fixmedins_name: str | None
    kind: str
    period_begin: date
    period_end: date
    details: dict[str, Any]
    raised_at: datetime
    source_msgid: str
    resolved_at: datetime | None


@router.get("/institutions/{code}", response_model=InstitutionView)
def get_institution(code: str, actor: CurrentActor, ctx: Ctx, s: DbSession,
                    months: Annotated[int, Query(ge=12, le=36)] = 24) -> Response:
    """Monthly income, its 12-month mean, fund mix, trend, events, disbursements, flags."""
    view = institution_view(s, actor=actor, code=code, months=months, today=ctx.clock.today(),
                            rules=masking_rules(ctx.settings.masking_file), now=ctx.clock.now())
    return send(view)


@router.get("/institutions/{code}/settlement")
def institution_settlement(code: str, actor: CurrentActor, s: DbSession) -> DailySettlement:
    """The latest 400 daily settlement summaries."""
    Scope.of(actor).visible_institution(s, code)
    rows = s.scalars(select(SettlementFactRow).where(SettlementFactRow.fixmedins_code == code)
                     .order_by(SettlementFactRow.setl_date.desc()).limit(400)).all()
    return DailySettlement(fixmedins_code=code, rows=[DailyRow(
        setl_date=r.setl_date, insutype=r.insutype, clr_type=r.clr_type, setl_cnt=r.setl_cnt,
        medfee_sumamt=f"{r.medfee_sumamt:.2f}", fund_pay_sumamt=f"{r.fund_pay_sumamt:.2f}")
        for r in rows])


@router.get("/data-quality")
def data_quality_flags(actor: CurrentActor, s: DbSession) -> list[QualityFlag]:
    """The newest flags in the caller's scope (at most 1000), newest first (e.g. 8302
    reconciliation totals that differ from the summed 8301 daily facts)."""
    scope: Scope = Scope.of(actor)
    stmt = (select(DataQualityFlagRow, InstitutionRow.fixmedins_name)
            .outerjoin(InstitutionRow,
                       InstitutionRow.fixmedins_code == DataQualityFlagRow.fixmedins_code)
            .order_by(DataQualityFlagRow.raised_at.desc(), DataQualityFlagRow.id.desc())
            .limit(MAX_FLAGS))
    if not scope.branch_wide:
        stmt = stmt.where(DataQualityFlagRow.fixmedins_code.in_(
            select(CaseRow.fixmedins_code).where(scope.sub_branch_clause(CaseRow.sub_branch_code))))
    out: list[QualityFlag] = []
    for f, inst_name in s.execute(stmt).all():
        out.append(QualityFlag(id=f.id, fixmedins_code=f.fixmedins_code, fixmedins_name=inst_name,
                               kind=f.kind, period_begin=f.period_begin,
                               period_end=f.period_end, details=f.details,
                               raised_at=f.raised_at, source_msgid=f.source_msgid,
                               resolved_at=f.resolved_at))
    return out


__all__ = ["router"]

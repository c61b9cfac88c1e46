"""Cases: the scoped list with filters, its exports, the detail, and the staff's steps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field, StrictBool
from starlette.responses import FileResponse, Response

from yibaodai.cases import service as cases
from yibaodai.cases.overrides import override_mismatches
from yibaodai.cases.reassignment import reassign
from yibaodai.cases.sla_policy import bank_calendar, policy_of
from yibaodai.reports.case_detail import CaseDetail, case_detail
from yibaodai.reports.cases import CaseFilters, CaseListItem, case_page
from yibaodai.reports.cases import case_rows as all_case_rows
from yibaodai.reports.masking import masking_rules
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.edge import NoteText, RecordId, VisibleText
from yibaodai.web.export import Column, ExportSpec, export_list
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Page, StateChange, send

router = api_router("cases")

PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
Filters = Annotated[CaseFilters, Query()]

CASES_EXPORT = ExportSpec("cases", "案件清单", "Cases", (
    Column("id", "案件号", "Case", "int", 8),
    Column("fixmedins_name", "机构名称", "Institution", width=30),
    Column("fixmedins_code", "机构编号", "Institution code", width=15),
    Column("uscc", "统一社会信用代码", "USCC", width=21),
    Column("district_zh", "区县", "District", width=10),
    Column("institution_type_zh", "机构类型", "Type", width=10),
    Column("sub_branch_name_zh", "支行", "Sub-branch", width=16),
    Column("client_manager_name", "客户经理", "Client manager", width=10),
    Column("state_zh", "状态", "State", width=12),
    Column("credit_limit", "授信额度", "Credit limit", "money", 16),
    Column("assigned_at", "分配时间", "Assigned at", "datetime", 17),
    Column("due_at", "当前时限", "Due at", "datetime", 17),
    Column("overdue", "是否超时", "Overdue", "bool", 8),
    Column("loan_drawn", "已放款", "Drawn", "money", 16),
    Column("loan_balance", "贷款余额", "Balance", "money", 16),
    Column("overdue_days", "逾期天数", "Days overdue", "int", 9),
))


class CasePage(Page[CaseListItem]):
    pass


class Reassignment(BaseModel):
    """To a sub-branch (it claims afresh) or to a client manager (by username or user id,
    as the options' cascader gives it)."""

    sub_branch_code: str | None = Field(default=None, max_length=10)
    client_manager: str | None = Field(default=None, max_length=50)
    client_manager_id: RecordId | None = None
    reason: VisibleText = Field(max_length=500)


class Verification(BaseModel):
    checklist: dict[str, StrictBool]
    note: NoteText = Field(default="", max_length=1000)
    #: The value found on site for each field checked (``domain.verification.FIELDS``),
    #: compared with the bureau's; optional, so older clients still verify.
    findings: dict[str, str] | None = None


class Override(BaseModel):
    reason: VisibleText = Field(max_length=500)


@router.get("/cases", response_model=CasePage)
def list_cases(actor: CurrentActor, ctx: Ctx, s: DbSession, filters: Filters,
               page: PageNo = 1, page_size: PageSize = 20) -> Response:
    """Cases in the caller's scope, filtered, sorted and one page at a time."""
    items, total = case_page(s, actor=actor, filters=filters, now=ctx.clock.now(), page=page,
                             page_size=page_size)
    return send(CasePage(items=items, total=total, page=page, page_size=page_size))


def _export_cases(fmt: Literal["xlsx", "csv"], actor: CurrentActor, ctx: Ctx, s: DbSession,
                  filters: CaseFilters) -> FileResponse:
    now = ctx.clock.now()
    rows = (item.model_dump() for item in all_case_rows(s, actor=actor, filters=filters,
                                                         now=now))
    return export_list(s, ctx, actor=actor, spec=CASES_EXPORT, fmt=fmt, rows=rows,
                       filters=filters.as_query())


@router.get("/cases/export.xlsx", response_class=FileResponse)
def export_cases_xlsx(actor: CurrentActor, ctx: Ctx, s: DbSession,
                      filters: Filters) -> FileResponse:
    return _export_cases("xlsx", actor, ctx, s, filters)


@router.get("/cases/export.csv", response_class=FileResponse)
def export_cases_csv(actor: CurrentActor, ctx: Ctx, s: DbSession,
                     filters: Filters) -> FileResponse:
    return _export_cases("csv", actor, ctx, s, filters)


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    """The case page: latest decision and history, timeline, checklist, head office."""
    detail = case_detail(s, actor=actor, case_id=case_id,
                         rules=masking_rules(ctx.settings.masking_file), now=ctx.clock.now())
    return send(detail)


@router.post("/cases/{case_id}/claim")
def claim_case(case_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> StateChange:
    case = cases.claim(s, actor=actor, case_id=case_id, now=ctx.clock.now(),
                       calendar=bank_calendar(ctx.settings), policy=policy_of(ctx.settings))
    s.commit()
    return StateChange(id=case.id, state=case.state)


@router.post("/cases/{case_id}/verification")
def verify_case(case_id: int, body: Verification, actor: CurrentActor, ctx: Ctx,
                s: DbSession) -> StateChange:
    case = cases.verify(s, actor=actor, case_id=case_id, checklist=body.checklist,
                        note=body.note, now=ctx.clock.now(), findings=body.findings)
    s.commit()
    return StateChange(id=case.id, state=case.state)


@router.post("/cases/{case_id}/confirmation")
def confirm_case(case_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> StateChange:
    case = cases.confirm(s, actor=actor, case_id=case_id, now=ctx.clock.now(),
                         publish=ctx.publish)
    s.commit()
    return StateChange(id=case.id, state=case.state)


@router.post("/cases/{case_id}/reassignment")
def reassign_case(case_id: int, body: Reassignment, actor: CurrentActor, ctx: Ctx,
                  s: DbSession) -> StateChange:
    """Branch managers: to a sub-branch or a client manager; a sub-branch manager: to another
    client manager of the same sub-branch. Always with a reason (a case event)."""
    case = reassign(s, actor=actor, case_id=case_id, reason=body.reason, now=ctx.clock.now(),
                    sub_branch_code=body.sub_branch_code, client_manager=body.client_manager,
                    client_manager_id=body.client_manager_id,
                    calendar=bank_calendar(ctx.settings), policy=policy_of(ctx.settings))
    s.commit()
    return StateChange(id=case.id, state=case.state)


@router.post("/cases/{case_id}/mismatch-override")
def override_case_mismatches(case_id: int, body: Override, actor: CurrentActor, ctx: Ctx,
                             s: DbSession) -> StateChange:
    """A department manager (not the verifier) lets a case with mismatched findings go on to
    confirmation, saying why."""
    case = override_mismatches(s, actor=actor, case_id=case_id, reason=body.reason,
                               now=ctx.clock.now())
    s.commit()
    return StateChange(id=case.id, state=case.state)

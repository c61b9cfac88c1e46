"""Marketing over the bureau's list: prospects (scoped by sub-branch), one prospect with its
match and outreach history, recording an outcome, a client manager's call list and its
exports, campaigns with their funnel and leaderboard, and imports of the list with their
report (JSON and Excel). The rules live in ``yibaodai.marketing``; this module only speaks
HTTP. Permissions: ``marketing.*`` in ``web/permissions.py``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, get_args
from urllib.parse import quote

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import FileResponse, Response

from yibaodai.db.models import ListImportRow
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.marketing.funnel import Target
from yibaodai.domain.marketing.outreach import STATE_NAMES, Outcome
from yibaodai.errors import FieldError, NotFound, ValidationFailed
from yibaodai.marketing import (
    call_list,
    campaign_funnel,
    create_campaign,
    import_list,
    import_report_xlsx,
    list_campaigns,
    record_outcome,
)
from yibaodai.marketing.outreach import CallListEntry, call_list_owner
from yibaodai.marketing.prospects import (
    ProspectDetail,
    ProspectFilters,
    ProspectItem,
    prospect_detail,
    prospect_page,
)
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.export import Column, ExportSpec, export_list
from yibaodai.web.routes import api_router
from yibaodai.web.routes.cases import PageNo, PageSize
from yibaodai.web.schemas import Out, Page, StateChange, send

router = api_router("marketing")
Filters = Annotated[ProspectFilters, Query()]

#: An upload: the list as the bureau sent it, .xlsx or .csv, at most 20 MB (a 20,000-row
#: list is about 2 MB).
MAX_UPLOAD: Final = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: content types browsers send for each kind (Windows calls a .csv ``vnd.ms-excel``)
UPLOAD_TYPES: Final = {
    ".xlsx": frozenset({XLSX, "application/octet-stream"}),
    ".csv": frozenset({"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel",
                       "application/octet-stream"}),
}

CALL_LIST_EXPORT = ExportSpec("call-list", "电话营销清单", "Call list", (
    Column("n", "序号", "No.", "int", 6),
    Column("name", "机构名称", "Institution", width=36),
    Column("phones", "电话", "Phone", width=28),
    Column("contact", "联系人", "Contact", width=10),
    Column("address", "地址", "Address", width=40),
    Column("district_name", "区县", "District", width=10),
    Column("state_zh", "当前状态", "State", width=12),
    Column("last_contact_at", "上次联系", "Last contact", "datetime", 17),
    Column("next_action_on", "下次跟进日期", "Next action", "date", 13),
    Column("last_note", "上次备注", "Last note", width=30),
    Column("existing_case", "已有业务", "Existing case", width=10),
    Column("fill_outcome", "联系结果（填写）", "Outcome (fill in)", width=16),
    Column("fill_note", "备注（填写）", "Note (fill in)", width=24),
))


# -- prospects ------------------------------------------------------------------------------


class ProspectPage(Page[ProspectItem]):
    pass


#: The outcomes staff record (``domain.marketing.outreach.Outcome``), inline in the schema.
OutcomeCode = Literal["not_reached", "not_interested", "interested", "visit_scheduled",
                      "visited", "authorized"]
assert set(get_args(OutcomeCode)) == {o.value for o in Outcome}


class OutcomeIn(BaseModel):
    outcome: OutcomeCode
    next_action_on: date | None = None
    note: str = Field(default="", max_length=2000)


@router.get("/marketing/prospects", response_model=ProspectPage)
def list_prospects(actor: CurrentActor, s: DbSession, filters: Filters, page: PageNo = 1,
                   page_size: PageSize = 20) -> Response:
    """The prospects in the caller's scope, filtered and one page at a time."""
    items, total = prospect_page(s, actor=actor, filters=filters, page=page,
                                 page_size=page_size)
    return send(ProspectPage(items=items, total=total, page=page, page_size=page_size))


@router.get("/marketing/prospects/{prospect_id}", response_model=ProspectDetail)
def get_prospect(prospect_id: int, actor: CurrentActor, s: DbSession) -> Response:
    return send(prospect_detail(s, actor=actor, prospect_id=prospect_id))


@router.post("/marketing/prospects/{prospect_id}/outcome")
def post_outcome(prospect_id: int, body: OutcomeIn, actor: CurrentActor, ctx: Ctx,
                 s: DbSession) -> StateChange:
    """Record one outcome; the state after it is the answer."""
    event = record_outcome(s, actor=actor, prospect_id=prospect_id,
                           outcome=Outcome(body.outcome),
                           next_action_on=body.next_action_on, note=body.note,
                           now=ctx.clock.now())
    s.commit()
    return StateChange(id=prospect_id, state=event.to_state)


# -- call list ------------------------------------------------------------------------------


class CallListItem(Out):
    prospect_id: int
    name: str
    phones: list[str]
    tel: list[str]
    contact: str | None
    address: str | None
    district: str
    district_name: str
    state: str
    state_zh: str
    last_contact_at: str | None
    next_action_on: str | None
    last_note: str
    existing_case: str | None


class CallList(Out):
    manager_id: int
    manager_name: str
    on: date
    items: list[CallListItem]


ManagerId = Annotated[int | None, Query(description="whose list (the caller's by default)")]


@router.get("/marketing/call-list")
def get_call_list(actor: CurrentActor, ctx: Ctx, s: DbSession,
                  manager_id: ManagerId = None) -> CallList:
    """Who to call today: the client manager's open prospects due by today."""
    today = ctx.clock.today()
    owner = call_list_owner(s, actor, manager_id)
    entries = call_list(s, actor=actor, on=today, manager_id=owner.id)
    return CallList(manager_id=owner.id, manager_name=owner.display_name, on=today,
                    items=[CallListItem(**e.as_dict()) for e in entries])


def _call_rows(entries: list[CallListEntry]) -> list[dict[str, Any]]:
    return [{"n": n, "name": e.name, "phones": "、".join(e.phones), "contact": e.contact,
             "address": e.address, "district_name": DALIAN_DISTRICTS[e.district][0],
             "state_zh": STATE_NAMES[e.state][0], "last_contact_at": e.last_contact_at,
             "next_action_on": e.next_action_on, "last_note": e.last_note,
             "existing_case": e.existing_case} for n, e in enumerate(entries, start=1)]


def _export_calls(fmt: Literal["xlsx", "csv"], actor: CurrentActor, ctx: Ctx, s: DbSession,
                  manager_id: int | None) -> FileResponse:
    owner = call_list_owner(s, actor, manager_id)
    entries = call_list(s, actor=actor, on=ctx.clock.today(), manager_id=owner.id)
    return export_list(s, ctx, actor=actor, spec=CALL_LIST_EXPORT, fmt=fmt,
                       rows=_call_rows(entries),
                       filters={"manager": owner.username, "on": ctx.clock.today().isoformat()})


@router.get("/marketing/call-list/export.xlsx", response_class=FileResponse)
def export_call_list_xlsx(actor: CurrentActor, ctx: Ctx, s: DbSession,
                          manager_id: ManagerId = None) -> FileResponse:
    return _export_calls("xlsx", actor, ctx, s, manager_id)


@router.get("/marketing/call-list/export.csv", response_class=FileResponse)
def export_call_list_csv(actor: CurrentActor, ctx: Ctx, s: DbSession,
                         manager_id: ManagerId = None) -> FileResponse:
    return _export_calls("csv", actor, ctx, s, manager_id)


# -- campaigns ------------------------------------------------------------------------------


class CampaignItem(Out):
    id: int
    name: str
    starts_on: str
    ends_on: str
    created_by: str
    target_count: int
    target_amount: str


class TargetIn(BaseModel):
    sub_branch: str = Field(max_length=10)
    count: int = Field(ge=0, le=100_000)
    amount: Decimal = Field(ge=0, le=Decimal("100000000000"), description="yuan")


class CampaignIn(BaseModel):
    name: str = Field(max_length=100)
    starts_on: date
    ends_on: date
    targets: list[TargetIn] = Field(default_factory=list, max_length=100)


class FunnelStepOut(Out):
    stage: str
    stage_zh: str
    stage_en: str
    count: int
    amount: str | None
    amount_wan: str | None


class LeaderOut(Out):
    rank: int
    sub_branch: str
    sub_branch_name_zh: str | None
    drawn_count: int
    drawn_amount: str
    drawn_amount_wan: str
    authorized_count: int
    target_count: int | None
    target_amount: str | None
    count_attainment: float | None
    amount_attainment: float | None


class CampaignHead(Out):
    id: int
    name: str
    starts_on: str
    ends_on: str


class CampaignFunnel(Out):
    campaign: CampaignHead
    unit: str
    total: list[FunnelStepOut]
    by_sub_branch: dict[str, list[FunnelStepOut]]
    leaderboard: list[LeaderOut]


class Created(Out):
    id: int


@router.get("/marketing/campaigns")
def get_campaigns(s: DbSession) -> list[CampaignItem]:
    return [CampaignItem(**c) for c in list_campaigns(s)]


@router.post("/marketing/campaigns")
def post_campaign(body: CampaignIn, actor: CurrentActor, ctx: Ctx, s: DbSession) -> Created:
    """A campaign with its period and targets per sub-branch (amounts in yuan)."""
    targets: dict[str, Target] = {}
    for n, t in enumerate(body.targets):
        if t.sub_branch in targets:
            raise ValidationFailed("营销活动信息有误", "the campaign is not valid",
                                   code="invalid_campaign", fields=[FieldError(
                                       f"targets.{n}.sub_branch", "支行重复",
                                       "this sub-branch is listed twice")])
        targets[t.sub_branch] = Target(t.count, t.amount)
    campaign = create_campaign(s, name=body.name, starts_on=body.starts_on,
                               ends_on=body.ends_on, targets=targets, actor=actor,
                               now=ctx.clock.now())
    s.commit()
    return Created(id=campaign.id)


@router.get("/marketing/campaigns/{campaign_id}", response_model=CampaignFunnel)
def get_campaign(campaign_id: int, actor: CurrentActor, s: DbSession) -> Response:
    """The funnel (within the caller's scope) and the leaderboard of every sub-branch."""
    funnel = campaign_funnel(s, campaign_id=campaign_id, sub_branches=actor.sub_branch_scope())
    return send(CampaignFunnel.model_validate(funnel))


# -- imports --------------------------------------------------------------------------------


class RowIssueOut(Out):
    row: int
    field: str
    code: str
    reason: str


class ImportReportOut(Out):
    import_id: int
    file: str
    sheet: str
    read: int
    new: int
    updated: int
    merged: int
    refused: list[RowIssueOut]
    warnings: list[RowIssueOut]
    changed: int
    assigned: int
    linked: dict[str, int]
    matching_version: str


class ImportItem(Out):
    id: int
    filename: str
    imported_at: datetime
    imported_by: str
    read: int
    new: int
    updated: int
    merged: int
    refused: int


def _bad_file(zh: str, en: str, code: str) -> ValidationFailed:
    return ValidationFailed(zh, en, code=code, fields=[FieldError("file", zh, en)])


async def uploaded_list(request: Request,
                        filename: Annotated[str, Query(min_length=5, max_length=255)]) -> bytes:
    """The request body as the uploaded file, refused before anything is read into the
    database when its name, type or size is wrong."""
    suffix = filename[filename.rfind("."):].lower() if "." in filename else ""
    allowed = UPLOAD_TYPES.get(suffix)
    if allowed is None:
        raise _bad_file("只接受 .xlsx 或 .csv 文件", "only .xlsx or .csv files", "file_type")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in allowed:
        raise _bad_file(f"文件类型与扩展名不符（{media or '无'}）",
                        f"content type {media or 'none'!r} does not fit {suffix}", "file_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise _too_big()
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            raise _too_big()
    if not data:
        raise _bad_file("文件为空", "the file is empty", "file_empty")
    return bytes(data)


def _too_big() -> ValidationFailed:
    mb = MAX_UPLOAD // (1024 * 1024)
    return _bad_file(f"文件超过{mb}MB", f"the file is larger than {mb} MB", "file_too_large")


Upload = Annotated[bytes, Depends(uploaded_list)]


def _report(s: DbSession, import_id: int) -> ListImportRow:
    row = s.get(ListImportRow, import_id)
    if row is None:
        raise NotFound("导入记录不存在", "import not found", code="import_not_found")
    return row


@router.get("/marketing/imports")
def get_imports(s: DbSession) -> list[ImportItem]:
    """The last 50 imports, newest first."""
    return [ImportItem.model_validate(r) for r in s.scalars(
        select(ListImportRow).order_by(ListImportRow.id.desc()).limit(50))]


@router.post("/marketing/imports", openapi_extra={"requestBody": {"content": {
    XLSX: {"schema": {"type": "string", "format": "binary"}},
    "text/csv": {"schema": {"type": "string", "format": "binary"}}}, "required": True}})
def post_import(data: Upload, actor: CurrentActor, ctx: Ctx, s: DbSession,
                filename: Annotated[str, Query(min_length=5, max_length=255)]
                ) -> ImportReportOut:
    """Import the bureau's list (the raw file as the body, its name in ``filename``). A file
    that cannot be read changes nothing; bad rows are reported with their sheet row."""
    report = import_list(s, data=data, filename=filename, actor=actor.username,
                         now=ctx.clock.now())
    s.commit()
    return ImportReportOut.model_validate(report.as_dict())


@router.get("/marketing/imports/{import_id}")
def get_import(import_id: int, s: DbSession) -> ImportReportOut:
    return ImportReportOut.model_validate(_report(s, import_id).report)


@router.get("/marketing/imports/{import_id}/report.xlsx", response_class=Response)
def get_import_xlsx(import_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    """The import report as Excel: summary, refused rows, warnings and merges."""
    now = ctx.clock.now()
    content = import_report_xlsx(_report(s, import_id).report,
                                 produced_by=f"{actor.display_name} {actor.staff_no}",
                                 produced_at=now)
    name = f"import-report-{import_id}-{now:%Y%m%d-%H%M}.xlsx"
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

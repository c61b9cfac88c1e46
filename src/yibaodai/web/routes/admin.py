"""The audit log (auditor, branch administrator) and the outbox (branch administrator)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.responses import FileResponse

from yibaodai.db.models import AuditRow, FlowEventRow, OutboxRow
from yibaodai.outbound.admin import retry, retry_event, shown_status, with_shown_status
from yibaodai.reports.cases import day_start
from yibaodai.reports.labels import (
    EVENT_STATUSES,
    OUTBOX_KINDS,
    OUTBOX_STATUSES,
    action_name,
    name,
)
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.edge import VisibleText
from yibaodai.web.export import Column, ExportSpec, export_list
from yibaodai.web.routes import api_router
from yibaodai.web.routes.cases import PageNo, PageSize
from yibaodai.web.schemas import Out, Page, like_escaped, one_of

router = api_router("admin")

AUDIT_EXPORT = ExportSpec("audit", "审计日志", "Audit log", (
    Column("id", "序号", "No.", "int", 8),
    Column("at", "时间", "At", "datetime", 17),
    Column("actor", "操作人", "Actor", width=14),
    Column("action_zh", "操作", "Action", width=16),
    Column("action", "操作代码", "Action code", width=18),
    Column("target", "对象", "Target", width=18),
    Column("details_text", "详情", "Details", width=50),
    Column("record_hash", "记录哈希（SM3）", "Record hash (SM3)", width=20),
))


class AuditFilters(BaseModel):
    actor: str | None = Field(default=None, max_length=50)
    action: str | None = Field(default=None, max_length=50, description="prefix, e.g. case.")
    target: str | None = Field(default=None, max_length=80, description="prefix, e.g. case:12")
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")
    sort: Literal["at", "-at"] = "-at"

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(by_alias=True, exclude_none=True).items()
                if not (k == "sort" and v == "-at")}


class AuditItem(Out):
    id: int
    at: datetime
    actor: str
    action: str
    action_zh: str
    action_en: str
    target: str
    details: dict[str, Any]
    record_hash: str


class AuditPage(Page[AuditItem]):
    pass


def _audit_query(f: AuditFilters) -> Select[Any]:
    stmt = select(AuditRow)
    if f.actor:
        stmt = stmt.where(AuditRow.actor == f.actor)
    if f.action:
        stmt = stmt.where(AuditRow.action.like(f"{like_escaped(f.action)}%", escape="\\"))
    if f.target:
        stmt = stmt.where(AuditRow.target.like(f"{like_escaped(f.target)}%", escape="\\"))
    if f.date_from:
        stmt = stmt.where(AuditRow.at >= day_start(f.date_from))
    if f.date_to:
        stmt = stmt.where(AuditRow.at < day_start(f.date_to + timedelta(days=1)))
    return stmt.order_by(AuditRow.id.desc() if f.sort == "-at" else AuditRow.id.asc())


def _audit_item(a: AuditRow) -> AuditItem:
    zh, en = action_name(a.action)
    return AuditItem(id=a.id, at=a.at, actor=a.actor, action=a.action, action_zh=zh,
                     action_en=en, target=a.target, details=a.details or {},
                     record_hash=a.record_hash)


def _count(s: Session, stmt: Select[Any]) -> int:
    return int(s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


AuditQuery = Annotated[AuditFilters, Query()]


@router.get("/audit")
def list_audit(s: DbSession, filters: AuditQuery, page: PageNo = 1,
               page_size: PageSize = 20) -> AuditPage:
    stmt = _audit_query(filters)
    rows = s.scalars(stmt.limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage(items=[_audit_item(a) for a in rows], total=_count(s, stmt),
                           page=page, page_size=page_size)


def _export_audit(fmt: Literal["xlsx", "csv"], actor: CurrentActor, ctx: Ctx, s: DbSession,
                  filters: AuditFilters) -> FileResponse:
    import json

    def rows() -> Any:
        for a in s.scalars(_audit_query(filters).execution_options(yield_per=1000)):
            item = _audit_item(a).model_dump()
            item["details_text"] = json.dumps(item["details"], ensure_ascii=False)
            yield item

    return export_list(s, ctx, actor=actor, spec=AUDIT_EXPORT, fmt=fmt, rows=rows(),
                       filters=filters.as_query())


@router.get("/audit/export.xlsx", response_class=FileResponse)
def export_audit_xlsx(actor: CurrentActor, ctx: Ctx, s: DbSession,
                      filters: AuditQuery) -> FileResponse:
    return _export_audit("xlsx", actor, ctx, s, filters)


@router.get("/audit/export.csv", response_class=FileResponse)
def export_audit_csv(actor: CurrentActor, ctx: Ctx, s: DbSession,
                     filters: AuditQuery) -> FileResponse:
    return _export_audit("csv", actor, ctx, s, filters)


# --- the outbox ---------------------------------------------------------------------------


class OutboxFilters(BaseModel):
    status: str | None = None
    destination: Literal["bureau", "headoffice"] | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        return one_of(v, OUTBOX_STATUSES, "status")


class OutboxItem(Out):
    id: int
    destination: str
    kind: str
    kind_zh: str
    kind_en: str
    status: str
    status_zh: str
    status_en: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    idempotency_key: str


class OutboxPage(Page[OutboxItem]):
    pass


class RetryRequest(BaseModel):
    reason: VisibleText = Field(max_length=500)


def _outbox_item(r: OutboxRow) -> OutboxItem:
    status = shown_status(r)
    return OutboxItem(id=r.id, destination=r.destination, kind=r.kind,
                      kind_zh=name(OUTBOX_KINDS, r.kind)[0], kind_en=name(OUTBOX_KINDS, r.kind)[1],
                      status=status, status_zh=name(OUTBOX_STATUSES, status)[0],
                      status_en=name(OUTBOX_STATUSES, status)[1], attempts=r.attempts,
                      created_at=r.created_at, next_attempt_at=r.next_attempt_at,
                      sent_at=r.sent_at, last_error=r.last_error,
                      idempotency_key=r.idempotency_key)


@router.get("/outbox")
def list_outbox(s: DbSession, filters: Annotated[OutboxFilters, Query()], page: PageNo = 1,
                page_size: PageSize = 20) -> OutboxPage:
    stmt = with_shown_status(select(OutboxRow), OutboxRow, filters.status)
    if filters.destination:
        stmt = stmt.where(OutboxRow.destination == filters.destination)
    rows = s.scalars(stmt.order_by(OutboxRow.id.desc()).limit(page_size)
                     .offset((page - 1) * page_size)).all()
    return OutboxPage(items=[_outbox_item(r) for r in rows], total=_count(s, stmt),
                            page=page, page_size=page_size)


@router.post("/outbox/{outbox_id}/retry")
def retry_message(outbox_id: int, body: RetryRequest, actor: CurrentActor, ctx: Ctx,
                  s: DbSession) -> OutboxItem:
    """Back to the queue, due now; the reason goes to the audit log."""
    row = retry(s, outbox_id=outbox_id, reason=body.reason, actor=actor.username,
                now=ctx.clock.now())
    s.commit()
    return _outbox_item(row)


# --- the deferred handlers' events --------------------------------------------------------


class EventFilters(BaseModel):
    status: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        return one_of(v, EVENT_STATUSES, "status")


class DeferredEventItem(Out):
    """An event waiting for (or past) its deferred handler, e.g. monitoring after new data."""

    id: int
    event_type: str
    handler: str
    status: str
    status_zh: str
    status_en: str
    attempts: int
    published_at: datetime
    next_attempt_at: datetime
    handled_at: datetime | None
    last_error: str | None


class DeferredEventPage(Page[DeferredEventItem]):
    pass


def _event_item(r: FlowEventRow) -> DeferredEventItem:
    status = shown_status(r)
    zh, en = name(EVENT_STATUSES, status)
    return DeferredEventItem(id=r.id, event_type=r.event_type, handler=r.handler,
                             status=status, status_zh=zh, status_en=en, attempts=r.attempts,
                             published_at=r.published_at, next_attempt_at=r.next_attempt_at,
                             handled_at=r.handled_at, last_error=r.last_error)


@router.get("/outbox/events")
def list_deferred_events(s: DbSession, filters: Annotated[EventFilters, Query()],
                         page: PageNo = 1, page_size: PageSize = 20) -> DeferredEventPage:
    """The deferred handlers' events; ``status=dead``: those that stopped being retried."""
    stmt = with_shown_status(select(FlowEventRow), FlowEventRow, filters.status)
    rows = s.scalars(stmt.order_by(FlowEventRow.id.desc()).limit(page_size)
                     .offset((page - 1) * page_size)).all()
    return DeferredEventPage(items=[_event_item(r) for r in rows], total=_count(s, stmt),
                             page=page, page_size=page_size)


@router.post("/outbox/events/{event_id}/retry")
def retry_deferred_event(event_id: int, body: RetryRequest, actor: CurrentActor, ctx: Ctx,
                         s: DbSession) -> DeferredEventItem:
    """Back to its handler's queue, due now; the reason goes to the audit log."""
    row = retry_event(s, event_id=event_id, reason=body.reason, actor=actor.username,
                      now=ctx.clock.now())
    s.commit()
    return _event_item(row)

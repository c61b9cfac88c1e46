"""Post-loan warnings: the inbox, its exports, one warning, and its handling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field
from starlette.responses import FileResponse, Response

from yibaodai.cases.service import visible_case
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.db.models import UserRow
from yibaodai.domain.ews.handling import ACTIONS
from yibaodai.monitoring.limit_actions import case_limit_actions
from yibaodai.monitoring.service import handle_warning, outcome_counts
from yibaodai.reports.labels import WARNING_RULES, name
from yibaodai.reports.warnings import (
    WarningFilters,
    WarningItem,
    warning_detail,
    warning_page,
    warning_rows,
)
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.edge import VisibleText
from yibaodai.web.export import Column, ExportSpec, export_list
from yibaodai.web.routes import api_router
from yibaodai.web.routes.cases import PageNo, PageSize
from yibaodai.web.schemas import Page, StateChange, send

router = api_router("warnings")
Filters = Annotated[WarningFilters, Query()]

WARNINGS_EXPORT = ExportSpec("warnings", "预警清单", "Warnings", (
    Column("id", "预警号", "Warning", "int", 8),
    Column("case_id", "案件号", "Case", "int", 8),
    Column("fixmedins_name", "机构名称", "Institution", width=30),
    Column("fixmedins_code", "机构编号", "Institution code", width=15),
    Column("sub_branch_name_zh", "支行", "Sub-branch", width=16),
    Column("rule_zh", "规则", "Rule", width=16),
    Column("level_zh", "级别", "Level", width=6),
    Column("raised_at", "产生时间", "Raised at", "datetime", 17),
    Column("deadline", "处理时限", "Deadline", "datetime", 17),
    Column("state_zh", "状态", "State", width=10),
    Column("explanation_zh", "说明", "Explanation", width=40),
    Column("assigned_to_name", "负责人", "Assigned to", width=10),
    Column("outcome", "处理结论", "Outcome", width=30),
    Column("handled_at", "处理时间", "Handled at", "datetime", 17),
))


class WarningPage(Page[WarningItem]):
    pass


class Outcome(BaseModel):
    """The post-loan check: a note, and what it found and what the bank does (optional for
    the old form, which sends only the note; checked in ``domain.ews.handling``)."""

    outcome: VisibleText = Field(max_length=1000)
    outcome_kind: str | None = Field(default=None, max_length=20)
    action: str | None = Field(default=None, max_length=20)


class LimitActionOut(BaseModel):
    """A "reduce limit" or "freeze" on the case: sent to head office (pending) or
    acknowledged by it (with head office's reference)."""

    id: int
    warning_id: int
    action: str
    action_zh: str
    action_en: str
    status: str
    requested_at: datetime
    requested_by_name: str | None
    acknowledged_at: datetime | None
    ho_ref: str | None


class LimitActions(BaseModel):
    """The case's limit actions, newest first; ``current`` is the one in force."""

    current: LimitActionOut | None
    items: list[LimitActionOut]


class RuleOutcomes(BaseModel):
    """One rule's warnings in the caller's scope, by outcome of the check."""

    rule_code: str
    rule_zh: str
    rule_en: str
    false_alarm: int
    explained: int
    risk_confirmed: int
    unlabelled: int
    open: int
    #: confirmed / (confirmed + explained + false alarm); None before any label
    confirmed_share: float | None


class OutcomeCounts(BaseModel):
    """Per rule code: counts by outcome (false_alarm, explained, risk_confirmed,
    unlabelled) and of the warnings not yet handled (open); ``items`` the same with the
    rules' names, for the page and its chart."""

    rules: dict[str, dict[str, int]]
    items: list[RuleOutcomes]


@router.get("/warnings", response_model=WarningPage)
def list_warnings(actor: CurrentActor, ctx: Ctx, s: DbSession, filters: Filters,
                  page: PageNo = 1, page_size: PageSize = 20) -> Response:
    items, total = warning_page(s, actor=actor, filters=filters, now=ctx.clock.now(),
                                page=page, page_size=page_size,
                                deadline_days=ctx.settings.warning_deadline_days,
                                calendar=bank_calendar(ctx.settings))
    return send(WarningPage(items=items, total=total, page=page, page_size=page_size))


def _export(fmt: Literal["xlsx", "csv"], actor: CurrentActor, ctx: Ctx, s: DbSession,
            filters: WarningFilters) -> FileResponse:
    now = ctx.clock.now()
    rows = (w.model_dump() for w in warning_rows(
        s, actor=actor, filters=filters, now=now,
        deadline_days=ctx.settings.warning_deadline_days,
        calendar=bank_calendar(ctx.settings)))
    return export_list(s, ctx, actor=actor, spec=WARNINGS_EXPORT, fmt=fmt, rows=rows,
                       filters=filters.as_query())


@router.get("/warnings/export.xlsx", response_class=FileResponse)
def export_warnings_xlsx(actor: CurrentActor, ctx: Ctx, s: DbSession,
                         filters: Filters) -> FileResponse:
    return _export("xlsx", actor, ctx, s, filters)


@router.get("/warnings/export.csv", response_class=FileResponse)
def export_warnings_csv(actor: CurrentActor, ctx: Ctx, s: DbSession,
                        filters: Filters) -> FileResponse:
    return _export("csv", actor, ctx, s, filters)


@router.get("/warnings/outcomes", response_model=OutcomeCounts)
def warning_outcomes(actor: CurrentActor, s: DbSession) -> OutcomeCounts:
    counts = outcome_counts(s, actor)
    items = []
    for code, c in counts.items():
        zh, en = name(WARNING_RULES, code[:3])
        labelled = c["false_alarm"] + c["explained"] + c["risk_confirmed"]
        items.append(RuleOutcomes(
            rule_code=code, rule_zh=zh, rule_en=en, false_alarm=c["false_alarm"],
            explained=c["explained"], risk_confirmed=c["risk_confirmed"],
            unlabelled=c["unlabelled"], open=c["open"],
            confirmed_share=round(c["risk_confirmed"] / labelled, 4) if labelled else None))
    return OutcomeCounts(rules=counts, items=items)


@router.get("/warnings/{warning_id}")
def get_warning(warning_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession) -> WarningItem:
    return warning_detail(s, actor=actor, warning_id=warning_id, now=ctx.clock.now(),
                          deadline_days=ctx.settings.warning_deadline_days,
                          calendar=bank_calendar(ctx.settings))


@router.post("/warnings/{warning_id}/outcome")
def record_outcome(warning_id: int, body: Outcome, actor: CurrentActor, ctx: Ctx,
                   s: DbSession) -> StateChange:
    warning = handle_warning(s, actor=actor, warning_id=warning_id, outcome=body.outcome,
                             outcome_kind=body.outcome_kind, action=body.action,
                             now=ctx.clock.now(), publish=ctx.publish)
    s.commit()
    return StateChange(id=warning.id, state=warning.state)


@router.get("/cases/{case_id}/limit-actions", response_model=LimitActions)
def get_limit_actions(case_id: int, actor: CurrentActor, s: DbSession) -> LimitActions:
    visible_case(s, actor, case_id)
    items = []
    for row in case_limit_actions(s, case_id):
        by = s.get(UserRow, row.requested_by) if row.requested_by else None
        zh, en = ACTIONS.get(row.action, (row.action, row.action))
        items.append(LimitActionOut(
            id=row.id, warning_id=row.warning_id, action=row.action, action_zh=zh,
            action_en=en, status=row.status, requested_at=row.requested_at,
            requested_by_name=by.display_name if by else None,
            acknowledged_at=row.acknowledged_at, ho_ref=row.ho_ref))
    return LimitActions(current=items[0] if items else None, items=items)

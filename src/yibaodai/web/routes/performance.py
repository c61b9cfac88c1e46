"""The sub-branch performance board (branch roles) and its exports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, field_validator, model_validator
from starlette.responses import FileResponse

from yibaodai.cases.performance import SubBranchPerformance, performance_board
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.reports.cases import day_start
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.export import Column, ExportSpec, export_list
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Link, Out, sort_key

router = api_router("performance")
DEFAULT_DAYS = 90
SORTS = ("sub_branch_code", "assigned", "conversion", "conversion_reported",
         "median_hours_to_claim", "p90_hours_to_claim", "median_hours_to_verify",
         "p90_hours_to_verify", "claim_breaches", "verification_breaches", "active_penalties")

PERFORMANCE_EXPORT = ExportSpec("performance", "支行绩效", "Sub-branch performance", (
    Column("sub_branch_code", "支行代码", "Code", width=9),
    Column("sub_branch_name_zh", "支行", "Sub-branch", width=18),
    Column("assigned", "分配", "Assigned", "int", 8),
    Column("claimed", "认领", "Claimed", "int", 8),
    Column("verified", "核实", "Verified", "int", 8),
    Column("drawn", "放款", "Drawn", "int", 8),
    Column("reported", "上报", "Reported", "int", 8),
    Column("median_hours_to_claim", "认领用时中位数（工作小时）", "Median working hours to claim",
           "decimal1", 12),
    Column("p90_hours_to_claim", "认领用时90分位（工作小时）", "P90 working hours to claim",
           "decimal1", 12),
    Column("median_hours_to_verify", "核实用时中位数（工作小时）",
           "Median working hours to verify", "decimal1", 12),
    Column("p90_hours_to_verify", "核实用时90分位（工作小时）", "P90 working hours to verify",
           "decimal1", 12),
    Column("claim_breaches", "认领超时", "Claim breaches", "int", 9),
    Column("verification_breaches", "核实超时", "Verification breaches", "int", 9),
    Column("active_penalties", "生效处罚", "Active penalties", "int", 8),
    Column("penalty_until", "处罚截至", "Penalty until", "datetime", 17),
    Column("conversion_reported", "准入至上报转化率", "Conversion admitted to reported",
           "ratio", 12),
    Column("conversion_reported_drawn", "上报至放款转化率", "Conversion reported to drawn",
           "ratio", 12),
    Column("conversion", "准入至放款转化率", "Conversion admitted to drawn", "ratio", 12),
))


class PerformanceFilters(BaseModel):
    assigned_from: date | None = None
    assigned_to: date | None = None
    sort: str = "sub_branch_code"

    @field_validator("sort")
    @classmethod
    def _sort(cls, v: str) -> str:
        return sort_key(v, SORTS)

    @model_validator(mode="after")
    def _order(self) -> PerformanceFilters:
        if self.assigned_from and self.assigned_to and self.assigned_from > self.assigned_to:
            raise ValueError("assigned_from is after assigned_to")
        return self


class PerformanceRow(SubBranchPerformance):
    link: Link


class Performance(Out):
    assigned_from: date
    assigned_to: date
    items: list[PerformanceRow]


Filters = Annotated[PerformanceFilters, Query()]


def _board(actor: CurrentActor, ctx: Ctx, s: DbSession, f: PerformanceFilters) -> Performance:
    today = ctx.clock.today()
    last = f.assigned_to or today
    first = f.assigned_from or last - timedelta(days=DEFAULT_DAYS)
    rows = performance_board(s, since=day_start(first), until=day_start(last + timedelta(days=1)),
                             now=ctx.clock.now(), sub_branches=actor.sub_branch_scope(),
                             calendar=bank_calendar(ctx.settings))
    key = f.sort.removeprefix("-")

    def order(r: SubBranchPerformance) -> tuple[bool, object]:
        value = getattr(r, key)
        return (value is None, value if value is not None else 0)

    rows.sort(key=order, reverse=f.sort.startswith("-"))
    query = {"assigned_from": first.isoformat(), "assigned_to": last.isoformat()}
    return Performance(assigned_from=first, assigned_to=last, items=[PerformanceRow(
        **r.model_dump(), link=Link(path="/cases",
                                    query={**query, "sub_branch": r.sub_branch_code}))
        for r in rows])


@router.get("/performance")
def get_performance(actor: CurrentActor, ctx: Ctx, s: DbSession,
                    filters: Filters) -> Performance:
    return _board(actor, ctx, s, filters)


def _export(fmt: Literal["xlsx", "csv"], actor: CurrentActor, ctx: Ctx, s: DbSession,
            filters: PerformanceFilters) -> FileResponse:
    board = _board(actor, ctx, s, filters)
    query = {"assigned_from": board.assigned_from.isoformat(),
             "assigned_to": board.assigned_to.isoformat(), "sort": filters.sort}
    return export_list(s, ctx, actor=actor, spec=PERFORMANCE_EXPORT, fmt=fmt,
                       rows=(r.model_dump() for r in board.items), filters=query)


@router.get("/performance/export.xlsx", response_class=FileResponse)
def export_performance_xlsx(actor: CurrentActor, ctx: Ctx, s: DbSession,
                            filters: Filters) -> FileResponse:
    return _export("xlsx", actor, ctx, s, filters)


@router.get("/performance/export.csv", response_class=FileResponse)
def export_performance_csv(actor: CurrentActor, ctx: Ctx, s: DbSession,
                           filters: Filters) -> FileResponse:
    return _export("csv", actor, ctx, s, filters)

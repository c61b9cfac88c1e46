"""The warnings inbox: scoped, filtered, sorted, paged; each warning with its explanation, its
handling deadline, the history of its handling and ``can_handle`` — computed by the very rule
the handling endpoint enforces (``monitoring.service.handling_refusal``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from yibaodai.auth.roles import Actor
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.db.models import AuditRow, CaseRow, InstitutionRow, SubBranchRow, UserRow, WarningRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.ews.handling import DEADLINE_WORKING_DAYS
from yibaodai.domain.ews.handling import deadline as level_deadline
from yibaodai.monitoring.service import handling_refusal, visible_warning
from yibaodai.reports.cases import day_start
from yibaodai.reports.formatting import format_values
from yibaodai.reports.labels import WARNING_LEVELS, WARNING_RULES, WARNING_STATES, name
from yibaodai.reports.schema import Labelled, Out, like_escaped, one_of, sort_key
from yibaodai.reports.scope import Scope

DEFAULT_SORT = "-raised_at"
SORTS: dict[str, Any] = {"raised_at": WarningRow.raised_at, "deadline": WarningRow.raised_at,
                         "level": WarningRow.severity, "state": WarningRow.state,
                         "id": WarningRow.id}
HISTORY_ACTIONS = {"warning.raised": ("raised", "产生预警", "Raised"),
                   "warning.escalated": ("escalated", "逾期升级", "Escalated"),
                   "warning.handled": ("handled", "处理完毕", "Handled")}


class WarningFilters(BaseModel):
    level: str | None = None
    state: str | None = Field(default=None, max_length=100,
                              description="comma-separated: open, escalated, closed")
    rule: str | None = Field(default=None, max_length=10)
    sub_branch: str | None = Field(default=None, max_length=10)
    case_id: int | None = None
    raised_from: date | None = None
    raised_to: date | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return one_of(v, WARNING_LEVELS, "level")

    @field_validator("state")
    @classmethod
    def _state(cls, v: str | None) -> str | None:
        bad = [x for x in (v or "").split(",") if x and x not in WARNING_STATES]
        if bad:
            raise ValueError(f"unknown state: {', '.join(bad)}")
        return v

    @field_validator("sort")
    @classmethod
    def _sort(cls, v: str) -> str:
        return sort_key(v, SORTS)

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(exclude_none=True).items()
                if not (k == "sort" and v == DEFAULT_SORT)}


class HistoryEntry(Out):
    at: datetime
    action: str
    label_zh: str
    label_en: str
    actor: str | None
    note: str | None


class WarningItem(Out):
    id: int
    case_id: int
    fixmedins_code: str
    fixmedins_name: str
    sub_branch_code: str
    sub_branch_name_zh: str
    sub_branch_name_en: str
    rule_code: str
    rule_zh: str
    rule_en: str
    level: str
    level_zh: str
    level_en: str
    period: str
    raised_at: datetime
    explanation_zh: str
    explanation_en: str
    figures: list[Labelled]
    deadline: datetime
    overdue: bool
    state: str
    state_zh: str
    state_en: str
    assigned_to_name: str | None
    outcome: str | None
    outcome_kind: str | None = None  # false_alarm / explained / risk_confirmed
    action: str | None = None  # watch / reduce_limit / freeze / recover
    escalation: str | None = None  # department / branch
    handled_by_name: str | None
    handled_at: datetime | None
    can_handle: bool
    history: list[HistoryEntry]


def _filtered(scope: Scope, f: WarningFilters) -> Select[Any]:
    assignee, handler = aliased(UserRow), aliased(UserRow)
    stmt = (select(WarningRow, CaseRow.sub_branch_code, InstitutionRow.fixmedins_name,
                   SubBranchRow.name_zh, SubBranchRow.name_en, assignee.display_name,
                   handler.display_name)
            .join(CaseRow, CaseRow.id == WarningRow.case_id)
            .join(InstitutionRow, InstitutionRow.fixmedins_code == WarningRow.fixmedins_code)
            .join(SubBranchRow, SubBranchRow.code == CaseRow.sub_branch_code)
            .outerjoin(assignee, assignee.id == WarningRow.assigned_to)
            .outerjoin(handler, handler.id == WarningRow.handled_by))
    stmt = scope.narrowed(f.sub_branch).cases(stmt)
    if f.level:
        stmt = stmt.where(WarningRow.severity == f.level)
    if f.state:
        stmt = stmt.where(WarningRow.state.in_([x for x in f.state.split(",") if x]))
    if f.rule:
        stmt = stmt.where(WarningRow.rule_code.like(f"{like_escaped(f.rule)}%", escape="\\"))
    if f.case_id is not None:
        stmt = stmt.where(WarningRow.case_id == f.case_id)
    if f.raised_from:
        stmt = stmt.where(WarningRow.raised_at >= day_start(f.raised_from))
    if f.raised_to:
        stmt = stmt.where(WarningRow.raised_at < day_start(f.raised_to + timedelta(days=1)))
    if f.q:
        like = like_escaped(f.q.strip())
        stmt = stmt.where(or_(InstitutionRow.fixmedins_name.like(f"%{like}%", escape="\\"),
                              WarningRow.fixmedins_code.like(f"{like.upper()}%", escape="\\")))
    column = SORTS[f.sort.removeprefix("-")]
    desc = f.sort.startswith("-")
    return stmt.order_by(column.desc() if desc else column.asc(),
                         WarningRow.id.desc() if desc else WarningRow.id.asc())


def _histories(session: Session, ids: list[int]) -> dict[int, list[HistoryEntry]]:
    out: dict[int, list[HistoryEntry]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(select(AuditRow).where(
        AuditRow.target.in_([f"warning:{i}" for i in ids]),
        AuditRow.action.in_(list(HISTORY_ACTIONS))).order_by(AuditRow.id))
    for a in rows:
        action, zh, en = HISTORY_ACTIONS[a.action]
        details = a.details or {}
        note = details.get("outcome") or (f"→ {details['to']}" if details.get("to") else None)
        out[int(a.target.split(":", 1)[1])].append(HistoryEntry(
            at=a.at, action=action, label_zh=zh, label_en=en,
            actor=None if a.actor == "system" else a.actor, note=note))
    return out


def _items(session: Session, actor: Actor, rows: list[Any], now: datetime,
           cal: WorkingDayCalendar, days: Mapping[str, int]) -> list[WarningItem]:
    histories = _histories(session, [r[0].id for r in rows])
    out = []
    for w, sub, inst_name, sub_zh, sub_en, assignee, handler in rows:
        rule_zh, rule_en = name(WARNING_RULES, w.rule_code[:3])
        level_zh, level_en = name(WARNING_LEVELS, w.severity)
        state_zh, state_en = name(WARNING_STATES, w.state)
        text = (w.reasons or [{}])[0]
        deadline = level_deadline(w.severity, w.raised_at, cal, days)
        out.append(WarningItem(
            id=w.id, case_id=w.case_id, fixmedins_code=w.fixmedins_code,
            fixmedins_name=inst_name, sub_branch_code=sub, sub_branch_name_zh=sub_zh,
            sub_branch_name_en=sub_en, rule_code=w.rule_code, rule_zh=rule_zh,
            rule_en=rule_en, level=w.severity, level_zh=level_zh, level_en=level_en,
            period=w.period, raised_at=w.raised_at,
            explanation_zh=str(text.get("text_zh", "")),
            explanation_en=str(text.get("text_en", "")),
            figures=[Labelled.model_validate(x) for x in format_values(
                {k: v for k, v in (w.inputs or {}).items() if k != "replay"},
                reason_code=w.rule_code[:3],
                sees_settlement=actor.sees_settlement_data)],
            deadline=deadline, overdue=w.state != "closed" and deadline < now,
            state=w.state, state_zh=state_zh, state_en=state_en,
            assigned_to_name=assignee, outcome=w.outcome,
            outcome_kind=w.outcome_kind, action=w.action, escalation=w.escalation,
            handled_by_name=handler,
            handled_at=w.handled_at, can_handle=handling_refusal(actor, w) is None,
            history=histories[w.id]))
    return out


def warning_page(session: Session, *, actor: Actor, filters: WarningFilters, now: datetime,
                 page: int, page_size: int,
                 deadline_days: Mapping[str, int] = DEADLINE_WORKING_DAYS,
                 calendar: WorkingDayCalendar | None = None,
                 ) -> tuple[list[WarningItem], int]:
    stmt = _filtered(Scope.of(actor), filters)
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(WarningRow.id).order_by(None).subquery())) or 0
    rows = list(session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).all())
    return _items(session, actor, rows, now, calendar or bank_calendar(),
                  deadline_days), int(total)


def warning_rows(session: Session, *, actor: Actor, filters: WarningFilters, now: datetime,
                 deadline_days: Mapping[str, int] = DEADLINE_WORKING_DAYS,
                 calendar: WorkingDayCalendar | None = None) -> Iterator[WarningItem]:
    cal = calendar or bank_calendar()
    result = session.execute(_filtered(Scope.of(actor), filters).execution_options(
        yield_per=500))
    for chunk in result.partitions(500):
        yield from _items(session, actor, list(chunk), now, cal, deadline_days)


def warning_detail(session: Session, *, actor: Actor, warning_id: int, now: datetime,
                   deadline_days: Mapping[str, int] = DEADLINE_WORKING_DAYS,
                   calendar: WorkingDayCalendar | None = None) -> WarningItem:
    visible_warning(session, actor, warning_id)
    rows = list(session.execute(_filtered(Scope.of(actor), WarningFilters())
                                .where(WarningRow.id == warning_id)).all())
    return _items(session, actor, rows, now, calendar or bank_calendar(), deadline_days)[0]

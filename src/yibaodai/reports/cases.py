"""The case list: filters, sort and pages over the cases in the viewer's scope (and the same
rows for the exports). The detail is in ``case_detail``."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from yibaodai.auth.roles import Actor
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    CaseRow,
    InstitutionRow,
    SubBranchRow,
    UserRow,
)
from yibaodai.domain.case import CaseState
from yibaodai.reports.labels import (
    CASE_STATES,
    DISTRICTS,
    INSTITUTION_TYPES,
    STAGE_STATES,
    name,
)
from yibaodai.reports.schema import Out, like_escaped, one_of, sort_key
from yibaodai.reports.scope import Scope

HOSPITAL_LEVELS = ("一级", "二级", "三级")
DEFAULT_SORT = "-assigned_at"


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, SHANGHAI)


def segment_expr() -> ColumnElement[str]:
    """``admission.service.segment_of`` in SQL (a test keeps the two equal)."""
    return case(
        (InstitutionRow.fixmedins_type == "2", "pharmacy"),
        (and_(InstitutionRow.fixmedins_type == "1",
              InstitutionRow.hosp_lv.in_(HOSPITAL_LEVELS)), "hospital"),
        (InstitutionRow.fixmedins_type == "1", "clinic"), else_="other")


def due_expr() -> ColumnElement[datetime]:
    """The case's current deadline: to claim while assigned, to verify while claimed."""
    return case((CaseRow.state == CaseState.ASSIGNED.value, CaseRow.claim_deadline),
                (CaseRow.state == CaseState.CLAIMED.value, CaseRow.verification_deadline),
                else_=None)


def _comma_list(value: str | None, allowed: Any, field: str) -> list[str]:
    if not value:
        return []
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise ValueError(f"unknown {field}: {', '.join(bad)}")
    return items


class CaseFilters(BaseModel):
    """The case list's query parameters (also those of its exports)."""

    state: str | None = Field(default=None, max_length=200,
                              description="comma-separated case states")
    stage: str | None = Field(default=None, description="funnel stage reached")
    sub_branch: str | None = Field(default=None, max_length=10)
    client_manager: int | None = None
    district: str | None = Field(default=None, max_length=6)
    institution_type: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    assigned_from: date | None = None
    assigned_to: date | None = None
    q: str | None = Field(default=None, max_length=100)
    sort: str = DEFAULT_SORT

    @field_validator("state")
    @classmethod
    def _states(cls, v: str | None) -> str | None:
        _comma_list(v, {s.value for s in CaseState}, "state")
        return v

    @field_validator("stage")
    @classmethod
    def _stage(cls, v: str | None) -> str | None:
        return one_of(v, STAGE_STATES, "stage")

    @field_validator("institution_type")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return one_of(v, INSTITUTION_TYPES, "institution_type")

    @field_validator("sort")
    @classmethod
    def _sort(cls, v: str) -> str:
        return sort_key(v, SORTS)

    def as_query(self) -> dict[str, str]:
        """The filters that are set, as query parameters (for links and the export audit)."""
        return {k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in self.model_dump(exclude_none=True).items()
                if not (k == "sort" and v == DEFAULT_SORT)}


SORTS: dict[str, Any] = {
    "id": CaseRow.id, "assigned_at": CaseRow.assigned_at, "due_at": due_expr(),
    "credit_limit": CaseRow.credit_limit, "fixmedins_name": InstitutionRow.fixmedins_name,
    "state": CaseRow.state, "sub_branch_code": CaseRow.sub_branch_code,
}


class CaseListItem(Out):
    id: int
    fixmedins_code: str
    fixmedins_name: str
    uscc: str
    district: str | None
    district_zh: str
    district_en: str
    institution_type: str
    institution_type_zh: str
    institution_type_en: str
    sub_branch_code: str
    sub_branch_name_zh: str
    sub_branch_name_en: str
    client_manager_id: int | None
    client_manager_name: str | None
    state: str
    state_zh: str
    state_en: str
    credit_limit: str
    assigned_at: datetime
    claim_deadline: datetime
    claimed_at: datetime | None
    verification_deadline: datetime | None
    due_at: datetime | None
    overdue: bool
    loan_status: str | None
    loan_drawn: str | None
    loan_balance: str | None
    overdue_days: int | None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


#: The client manager of a case (outer-joined: a case may have none yet).
_MANAGER = aliased(UserRow, name="manager")

#: What the list shows of each case, named as ``CaseListItem``'s fields and as the case's and
#: the institution's attributes: the columns read, not the two full rows. The list and the
#: exports read many rows, and ORM entities for them cost more Python than the round trip.
_LIST_COLUMNS = (
    CaseRow.id, CaseRow.fixmedins_code, InstitutionRow.fixmedins_name, InstitutionRow.uscc,
    InstitutionRow.area_code, CaseRow.sub_branch_code,
    SubBranchRow.name_zh.label("sub_branch_name_zh"),
    SubBranchRow.name_en.label("sub_branch_name_en"),
    CaseRow.client_manager_id, _MANAGER.display_name.label("client_manager_name"),
    CaseRow.state, CaseRow.credit_limit, CaseRow.assigned_at, CaseRow.claim_deadline,
    CaseRow.claimed_at, CaseRow.verification_deadline, CaseRow.loan_status, CaseRow.loan_drawn,
    CaseRow.loan_balance, CaseRow.overdue_days,
    segment_expr().label("institution_type"), due_expr().label("due_at"))


def _params(f: CaseFilters, now: datetime) -> dict[str, Any]:
    """The filters that are set, as the values of ``_filtered``'s bound parameters."""
    params: dict[str, Any] = {}
    if f.state:
        params["states"] = _comma_list(f.state, CASE_STATES, "state")
    if f.stage:
        params["stage_states"] = list(STAGE_STATES[f.stage])
    if f.client_manager is not None:
        params["client_manager"] = f.client_manager
    if f.district:
        params["district"] = f.district
    if f.institution_type:
        params["institution_type"] = f.institution_type
    if f.due_from:
        params["due_from"] = day_start(f.due_from)
    if f.due_to:
        params["due_before"] = day_start(f.due_to + timedelta(days=1))
    if f.overdue is not None:
        params["now"] = now
    if f.assigned_from:
        params["assigned_from"] = day_start(f.assigned_from)
    if f.assigned_to:
        params["assigned_before"] = day_start(f.assigned_to + timedelta(days=1))
    if f.q:
        like = like_escaped(f.q.strip())
        params["q_name"] = f"%{like}%"
        params["q_code"] = f"{like.upper()}%"
    return params


def _filtered(scope: Scope, bound: Collection[str], overdue: bool | None,
              *columns: Any) -> Select[Any]:
    """``columns`` of the cases in ``scope`` (with their institution, sub-branch and client
    manager) that match the filters whose parameters are ``bound`` (``_params``' names);
    ``overdue``: the overdue filter's direction. The filters' values are bound parameters, so
    the statement depends only on which filters are set: the list builds it once for each
    such shape, and SQLAlchemy keys a statement it has seen for its cache only once."""
    stmt = scope.cases(
        select(*columns)
        .join(InstitutionRow, InstitutionRow.fixmedins_code == CaseRow.fixmedins_code)
        .join(SubBranchRow, SubBranchRow.code == CaseRow.sub_branch_code)
        .outerjoin(_MANAGER, _MANAGER.id == CaseRow.client_manager_id))
    if "states" in bound:
        stmt = stmt.where(CaseRow.state.in_(bindparam("states", expanding=True)))
    if "stage_states" in bound:
        stmt = stmt.where(CaseRow.state.in_(bindparam("stage_states", expanding=True)))
    if "client_manager" in bound:
        stmt = stmt.where(CaseRow.client_manager_id == bindparam("client_manager"))
    if "district" in bound:
        stmt = stmt.where(InstitutionRow.area_code == bindparam("district"))
    if "institution_type" in bound:
        stmt = stmt.where(segment_expr() == bindparam("institution_type"))
    due = due_expr()
    if "due_from" in bound:
        stmt = stmt.where(due >= bindparam("due_from"))
    if "due_before" in bound:
        stmt = stmt.where(due < bindparam("due_before"))
    if overdue is not None:
        now: ColumnElement[datetime] = bindparam("now")
        stmt = stmt.where(due < now if overdue else or_(due.is_(None), due >= now))
    if "assigned_from" in bound:
        stmt = stmt.where(CaseRow.assigned_at >= bindparam("assigned_from"))
    if "assigned_before" in bound:
        stmt = stmt.where(CaseRow.assigned_at < bindparam("assigned_before"))
    if "q_name" in bound:
        stmt = stmt.where(or_(
            InstitutionRow.fixmedins_name.like(bindparam("q_name"), escape="\\"),
            CaseRow.fixmedins_code.like(bindparam("q_code"), escape="\\"),
            InstitutionRow.uscc.like(bindparam("q_code"), escape="\\")))
    return stmt


def filtered_cases(scope: Scope, f: CaseFilters, now: datetime) -> Select[Any]:
    """The cases in the scope that match the filters, as (case, institution, sub-branch
    names, client manager's name, segment, due) for ``case_item``, the filters' values
    bound: ready to execute."""
    params = _params(f, now)
    stmt = _filtered(scope.narrowed(f.sub_branch), params, f.overdue, CaseRow, InstitutionRow,
                     SubBranchRow.name_zh, SubBranchRow.name_en, _MANAGER.display_name,
                     segment_expr(), due_expr())
    return stmt.params(params) if params else stmt


def _ordered(stmt: Select[Any], sort: str) -> Select[Any]:
    column = SORTS[sort.removeprefix("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    tiebreak = CaseRow.id.desc() if sort.startswith("-") else CaseRow.id.asc()
    return stmt.order_by(order.nulls_last(), tiebreak)


def _item(c: Any, i: Any, sub_zh: str, sub_en: str, manager_name: str | None,
          segment: str, due: datetime | None, now: datetime) -> CaseListItem:
    """The list's item of case ``c`` of institution ``i`` (entities, or one row of the
    list's columns standing for both)."""
    district_zh, district_en = name(DISTRICTS, i.area_code)
    type_zh, type_en = name(INSTITUTION_TYPES, segment)
    state_zh, state_en = name(CASE_STATES, c.state)
    return CaseListItem(
        id=c.id, fixmedins_code=c.fixmedins_code, fixmedins_name=i.fixmedins_name, uscc=i.uscc,
        district=i.area_code, district_zh=district_zh, district_en=district_en,
        institution_type=segment, institution_type_zh=type_zh, institution_type_en=type_en,
        sub_branch_code=c.sub_branch_code, sub_branch_name_zh=sub_zh, sub_branch_name_en=sub_en,
        client_manager_id=c.client_manager_id, client_manager_name=manager_name,
        state=c.state, state_zh=state_zh, state_en=state_en,
        credit_limit=money(c.credit_limit) or "0.00", assigned_at=c.assigned_at,
        claim_deadline=c.claim_deadline, claimed_at=c.claimed_at,
        verification_deadline=c.verification_deadline, due_at=due,
        overdue=due is not None and due < now, loan_status=c.loan_status,
        loan_drawn=money(c.loan_drawn), loan_balance=money(c.loan_balance),
        overdue_days=c.overdue_days)


def case_item(row: Any, now: datetime) -> CaseListItem:
    """The item of a row of ``filtered_cases``."""
    c, i, sub_zh, sub_en, manager_name, segment, due = row
    return _item(c, i, sub_zh, sub_en, manager_name, segment, due, now)


def _listed_item(r: Row[Any], now: datetime) -> CaseListItem:
    """The item of a row of ``_LIST_COLUMNS``."""
    return _item(r, r, r.sub_branch_name_zh, r.sub_branch_name_en, r.client_manager_name,
                 r.institution_type, r.due_at, now)


@lru_cache(maxsize=256)
def _page_statement(scope: Scope, bound: frozenset[str], overdue: bool | None,
                    sort: str) -> Select[Any]:
    """One page of the list (``limit`` and ``offset`` bound), each row with the number of
    all matching rows (a window count: no second statement for the total)."""
    return (_ordered(_filtered(scope, bound, overdue, *_LIST_COLUMNS,
                               func.count().over().label("total")), sort)
            .limit(bindparam("limit")).offset(bindparam("offset")))


@lru_cache(maxsize=64)
def _count_statement(scope: Scope, bound: frozenset[str],
                     overdue: bool | None) -> Select[Any]:
    """The number of matching cases, for a page past the last (it has no row to carry it)."""
    return select(func.count()).select_from(
        _filtered(scope, bound, overdue, CaseRow.id).subquery())


def case_page(session: Session, *, actor: Actor, filters: CaseFilters, now: datetime,
              page: int, page_size: int) -> tuple[list[CaseListItem], int]:
    scope = Scope.of(actor).narrowed(filters.sub_branch)
    params = _params(filters, now)
    shape = (scope, frozenset(params), filters.overdue)
    rows = session.execute(_page_statement(*shape, filters.sort),
                           {**params, "limit": page_size,
                            "offset": (page - 1) * page_size}).all()
    if rows:
        total = rows[0].total
    elif page > 1:
        total = session.execute(_count_statement(*shape), params).scalar_one()
    else:
        total = 0
    return [_listed_item(r, now) for r in rows], int(total)


def case_rows(session: Session, *, actor: Actor, filters: CaseFilters,
              now: datetime) -> Iterator[CaseListItem]:
    """Every matching case, in order (the exports), fetched in chunks."""
    params = _params(filters, now)
    stmt = _ordered(_filtered(Scope.of(actor).narrowed(filters.sub_branch), params,
                              filters.overdue, *_LIST_COLUMNS), filters.sort)
    for row in session.execute(stmt.execution_options(yield_per=500), params):
        yield _listed_item(row, now)

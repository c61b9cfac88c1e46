"""The prospects as the platform lists them: scoped by sub-branch (a sub-branch's staff see its
prospects, branch roles all; an unassigned prospect only branch roles), filtered, searched by
name, code or USCC, paged; and one prospect with how it was matched and its outreach log.

The current outreach state is computed from the log's latest entry in the same query (it is
stored nowhere else), so the state filter and the list agree with the call list."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, Subquery, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from yibaodai.auth.roles import Actor, Role
from yibaodai.db.models import (
    CaseRow,
    OutreachEventRow,
    ProspectMatchRow,
    ProspectRow,
    SubBranchRow,
    UserRow,
)
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.marketing.fields import tel_uri
from yibaodai.domain.marketing.outreach import STATE_NAMES, TERMINAL, OutreachState
from yibaodai.marketing.outreach import CAN_RECORD_OUTREACH, outreach_log, visible_prospect
from yibaodai.reports.schema import Out, like_escaped, one_of

#: How a prospect stands against what the bank already knows (the ``match`` filter).
MATCH_STATUSES: Final = ("linked", "unlinked", "fixmedins_code", "uscc", "name_address",
                         "authorization")
LINK_NAMES: Final = {"fixmedins_code": ("医保编码相同", "same institution code"),
                     "uscc": ("信用代码相同", "same USCC"),
                     "name_address": ("名称和地址相近", "similar name and address"),
                     "authorization": ("授权到达时关联", "linked when its authorization came")}


class ProspectFilters(BaseModel):
    sub_branch: str | None = Field(default=None, max_length=10)
    client_manager: int | None = None
    state: str | None = Field(default=None, max_length=20,
                              description="outreach state: " + ", ".join(OutreachState))
    district: str | None = Field(default=None, max_length=6)
    match: str | None = Field(default=None, max_length=20,
                              description="linked, unlinked, or a link reason")
    do_not_contact: bool | None = None
    q: str | None = Field(default=None, max_length=100, description="name, code or USCC")

    @field_validator("state")
    @classmethod
    def _state(cls, v: str | None) -> str | None:
        return one_of(v, [s.value for s in OutreachState], "state")

    @field_validator("district")
    @classmethod
    def _district(cls, v: str | None) -> str | None:
        return one_of(v, DALIAN_DISTRICTS, "district")

    @field_validator("match")
    @classmethod
    def _match(cls, v: str | None) -> str | None:
        return one_of(v, MATCH_STATUSES, "match")

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(exclude_none=True).items()}


class ProspectItem(Out):
    id: int
    name: str
    fixmedins_code: str | None
    uscc: str | None
    address: str | None
    district: str
    district_zh: str
    phones: list[str]
    tel: list[str]
    contact: str | None
    sub_branch_code: str | None
    sub_branch_name_zh: str | None
    client_manager_id: int | None
    client_manager_name: str | None
    state: str
    state_zh: str
    state_en: str
    institution_code: str | None
    link_reason: str | None
    link_score: int | None
    do_not_contact: bool
    last_contact_at: str | None = None
    next_action_on: str | None = None


class MatchEntry(Out):
    import_id: int
    sheet_row: int
    outcome: str
    reason: str | None
    reason_zh: str | None
    score: int | None
    into_row: int | None


class OutreachEntry(Out):
    id: int
    at: str
    by: str
    outcome: str
    from_state: str
    to_state: str
    to_state_zh: str
    next_action_on: str | None
    note: str


class ProspectDetail(ProspectItem):
    kind_text: str | None
    designated_on: str | None = None
    do_not_contact_reason: str | None
    link_reason_zh: str | None
    assignment: dict[str, Any]
    existing_case: dict[str, Any] | None
    matches: list[MatchEntry]
    outreach: list[OutreachEntry]
    can_record: bool


def _last_events() -> Subquery:
    newest = select(OutreachEventRow.prospect_id, func.max(OutreachEventRow.id).label("last")
                    ).group_by(OutreachEventRow.prospect_id).subquery()
    return newest


def _query(actor: Actor, filters: ProspectFilters) -> Select[Any]:
    newest = _last_events()
    event = aliased(OutreachEventRow)
    manager = aliased(UserRow)
    state = func.coalesce(event.to_state, literal(OutreachState.LISTED.value))
    q = (select(ProspectRow, state.label("state"), event.at, event.next_action_on,
                SubBranchRow.name_zh, manager.display_name)
         .outerjoin(newest, newest.c.prospect_id == ProspectRow.id)
         .outerjoin(event, event.id == newest.c.last)
         .outerjoin(SubBranchRow, SubBranchRow.code == ProspectRow.sub_branch_code)
         .outerjoin(manager, manager.id == ProspectRow.client_manager_id))
    scope = actor.sub_branch_scope()
    if scope is not None:
        q = q.where(ProspectRow.sub_branch_code.in_(sorted(scope)))
    if filters.sub_branch:
        q = q.where(ProspectRow.sub_branch_code == filters.sub_branch)
    if filters.client_manager is not None:
        q = q.where(ProspectRow.client_manager_id == filters.client_manager)
    if filters.state:
        q = q.where(state == filters.state)
    if filters.district:
        q = q.where(ProspectRow.district == filters.district)
    if filters.match == "linked":
        q = q.where(ProspectRow.institution_code.is_not(None))
    elif filters.match == "unlinked":
        q = q.where(ProspectRow.institution_code.is_(None))
    elif filters.match:
        q = q.where(ProspectRow.link_reason == filters.match)
    if filters.do_not_contact is not None:
        q = q.where(ProspectRow.do_not_contact.is_(filters.do_not_contact))
    if filters.q:
        text = filters.q.strip()
        pattern = f"%{like_escaped(text)}%"
        q = q.where(or_(ProspectRow.name.like(pattern, escape="\\"),
                        ProspectRow.fixmedins_code == text.upper(),
                        ProspectRow.uscc == text.upper()))
    return q


def _item(row: Any) -> dict[str, Any]:
    p, state, last_at, next_on, sub_name, manager_name = row
    s = OutreachState(state)
    return {"id": p.id, "name": p.name, "fixmedins_code": p.fixmedins_code, "uscc": p.uscc,
            "address": p.address, "district": p.district,
            "district_zh": DALIAN_DISTRICTS[p.district][0], "phones": list(p.phones),
            "tel": [tel_uri(x) for x in p.phones], "contact": p.contact,
            "sub_branch_code": p.sub_branch_code, "sub_branch_name_zh": sub_name,
            "client_manager_id": p.client_manager_id, "client_manager_name": manager_name,
            "state": s.value, "state_zh": STATE_NAMES[s][0], "state_en": STATE_NAMES[s][1],
            "institution_code": p.institution_code, "link_reason": p.link_reason,
            "link_score": p.link_score, "do_not_contact": p.do_not_contact,
            "last_contact_at": last_at.isoformat() if last_at else None,
            "next_action_on": next_on.isoformat() if next_on else None}


def prospect_page(session: Session, *, actor: Actor, filters: ProspectFilters, page: int,
                  page_size: int) -> tuple[list[ProspectItem], int]:
    q = _query(actor, filters)
    total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = session.execute(q.order_by(ProspectRow.id).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return [ProspectItem(**_item(r)) for r in rows], total


def prospect_detail(session: Session, *, actor: Actor, prospect_id: int) -> ProspectDetail:
    """One prospect in the actor's scope (else NotFound): its match history over every import,
    the institution or case it is linked to, its outreach log, and whether the actor may
    record an outcome (the rule ``record_outcome`` enforces)."""
    prospect = visible_prospect(session, actor, prospect_id)
    row = session.execute(_query(actor, ProspectFilters()).where(
        ProspectRow.id == prospect_id)).one()
    matches = [MatchEntry(import_id=m.import_id, sheet_row=m.sheet_row, outcome=m.outcome,
                          reason=m.reason, reason_zh=LINK_NAMES.get(m.reason or "", (None,))[0],
                          score=m.score, into_row=m.into_row)
               for m in session.scalars(select(ProspectMatchRow).where(
                   ProspectMatchRow.prospect_id == prospect_id).order_by(ProspectMatchRow.id))]
    code = prospect.institution_code or prospect.fixmedins_code
    case = session.scalars(select(CaseRow).where(CaseRow.fixmedins_code == code).order_by(
        CaseRow.id.desc())).first() if code else None
    log = [OutreachEntry(**e, to_state_zh=STATE_NAMES[OutreachState(e["to_state"])][0])
           for e in outreach_log(session, actor=actor, prospect_id=prospect_id)]
    state = OutreachState(row.state)
    can_record = (actor.role in CAN_RECORD_OUTREACH and not prospect.do_not_contact
                  and state not in TERMINAL and (actor.role is not Role.CLIENT_MANAGER
                                             or prospect.client_manager_id == actor.user_id))
    return ProspectDetail(
        **_item(row), kind_text=prospect.kind_text,
        designated_on=prospect.designated_on.isoformat() if prospect.designated_on else None,
        do_not_contact_reason=prospect.do_not_contact_reason,
        link_reason_zh=LINK_NAMES.get(prospect.link_reason or "", (None,))[0],
        assignment=prospect.assignment or {},
        existing_case={"id": case.id, "state": case.state} if case else None,
        matches=matches, outreach=log, can_record=can_record)

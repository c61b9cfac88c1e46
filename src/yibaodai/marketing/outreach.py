"""Outreach as staff do it: call lists per client manager, outcomes appended to the log through
the one transition table (``domain.marketing.outreach``), the do-not-contact flag.

Every write is in the caller's unit of work with its audit row. A prospect outside the actor's
sub-branch answers NotFound, as cases do, so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import BRANCH_WIDE, Actor, Role
from yibaodai.db.models import CaseRow, OutreachEventRow, ProspectRow, UserRow
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.marketing.fields import tel_uri
from yibaodai.domain.marketing.outreach import (
    CALLABLE,
    STATE_NAMES,
    Outcome,
    OutreachState,
    Refusal,
    transition,
)
from yibaodai.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from yibaodai.marketing.excel import XlsxColumn, XlsxSheet, workbook

#: Who records outreach: the sub-branch's own staff.
CAN_RECORD_OUTREACH: Final = frozenset({Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER})
NOTE_MAX: Final = 2000
STAFF, GATEWAY = "staff", "gateway"


def current_states(session: Session, *, prospect_ids: Collection[int] | None = None
                   ) -> dict[int, OutreachState]:
    """Each prospect's state: the ``to_state`` of its latest outreach event (LISTED without
    one). All prospects when ``prospect_ids`` is None."""
    latest = select(OutreachEventRow.prospect_id, func.max(OutreachEventRow.id).label("last")
                    ).group_by(OutreachEventRow.prospect_id)
    ids = select(ProspectRow.id)
    if prospect_ids is not None:
        if not prospect_ids:
            return {}
        latest = latest.where(OutreachEventRow.prospect_id.in_(list(prospect_ids)))
        ids = ids.where(ProspectRow.id.in_(list(prospect_ids)))
    sub = latest.subquery()
    states = dict.fromkeys(session.scalars(ids), OutreachState.LISTED)
    for pid, state in session.execute(select(sub.c.prospect_id, OutreachEventRow.to_state).join(
            OutreachEventRow, OutreachEventRow.id == sub.c.last)):
        states[pid] = OutreachState(state)
    return states


def visible_prospect(session: Session, actor: Actor, prospect_id: int) -> ProspectRow:
    """The prospect if the actor's data scope covers its sub-branch, else NotFound."""
    prospect = session.get(ProspectRow, prospect_id)
    if prospect is None or prospect.sub_branch_code is None or not actor.can_see_sub_branch(
            prospect.sub_branch_code):
        raise NotFound("营销对象不存在", "prospect not found", code="prospect_not_found")
    return prospect


def _refused(refusal: Refusal) -> Conflict | ValidationFailed:
    if refusal.code in ("next_action_required", "next_action_in_past"):
        return ValidationFailed(refusal.message_zh, refusal.message_en, code=refusal.code,
                                fields=[FieldError("next_action_on", refusal.message_zh,
                                                   refusal.message_en)])
    return Conflict(refusal.message_zh, refusal.message_en, code=refusal.code)


def _clean_note(note: str) -> str:
    text = note.strip()
    if len(text) > NOTE_MAX:
        raise ValidationFailed("备注过长（最多2000字）", "the note is too long (2,000 characters)",
                               code="note_too_long", fields=[FieldError(
                                   "note", "备注最多2000字", "at most 2,000 characters")])
    return text


def record_outcome(session: Session, *, actor: Actor, prospect_id: int, outcome: Outcome,
                   next_action_on: date | None, note: str, now: datetime) -> OutreachEventRow:
    """Append one outcome to the prospect's log. A client manager records on their own
    prospects, a department manager on any of the sub-branch's."""
    prospect = visible_prospect(session, actor, prospect_id)
    if actor.role not in CAN_RECORD_OUTREACH:
        raise PermissionDenied("当前角色无权记录营销结果", "your role may not record outreach",
                               code="role_not_allowed")
    if actor.role is Role.CLIENT_MANAGER and prospect.client_manager_id != actor.user_id:
        raise NotFound("营销对象不存在", "prospect not found", code="prospect_not_found")
    if prospect.do_not_contact:
        raise Conflict("该机构已标记为勿扰，不得联系", "the institution asked not to be contacted",
                       code="do_not_contact")
    text = _clean_note(note)
    before = current_states(session, prospect_ids=[prospect_id])[prospect_id]
    result = transition(before, outcome, next_action_on=next_action_on, today=now.date())
    if isinstance(result, Refusal):
        raise _refused(result)
    event = OutreachEventRow(prospect_id=prospect_id, at=now, actor_id=actor.user_id,
                             source=STAFF, outcome=outcome.value, from_state=before.value,
                             to_state=result.value, next_action_on=next_action_on, note=text)
    session.add(event)
    session.flush()
    audit(session, at=now, actor=actor.username, action="marketing.outreach",
          target=f"prospect:{prospect_id}",
          details={"event_id": event.id, "outcome": outcome.value, "from": before.value,
                   "to": result.value, "next_action_on": next_action_on.isoformat()
                   if next_action_on else None})
    return event


def set_do_not_contact(session: Session, *, actor: Actor, prospect_id: int, value: bool,
                       reason: str, now: datetime) -> ProspectRow:
    """Flag (or unflag) a prospect that asked not to be contacted; it leaves every call list
    and its client manager's load. The reason is required when flagging."""
    prospect = visible_prospect(session, actor, prospect_id)
    if actor.role not in CAN_RECORD_OUTREACH:
        raise PermissionDenied("当前角色无权修改勿扰标记", "your role may not change this flag",
                               code="role_not_allowed")
    text = _clean_note(reason)
    if value and not text:
        raise ValidationFailed("请填写勿扰原因", "say why the institution is not to be contacted",
                               code="reason_required",
                               fields=[FieldError("reason", "必填", "required")])
    prospect.do_not_contact = value
    prospect.do_not_contact_reason = text if value else None
    audit(session, at=now, actor=actor.username, action="marketing.do_not_contact",
          target=f"prospect:{prospect_id}", details={"value": value, "reason": text})
    return prospect


def outreach_log(session: Session, *, actor: Actor, prospect_id: int) -> list[dict[str, Any]]:
    visible_prospect(session, actor, prospect_id)
    rows = session.execute(select(OutreachEventRow, UserRow.username).outerjoin(
        UserRow, UserRow.id == OutreachEventRow.actor_id).where(
        OutreachEventRow.prospect_id == prospect_id).order_by(OutreachEventRow.id)).all()
    return [{"id": e.id, "at": e.at.isoformat(), "by": who or e.source, "outcome": e.outcome,
             "from_state": e.from_state, "to_state": e.to_state,
             "next_action_on": e.next_action_on.isoformat() if e.next_action_on else None,
             "note": e.note} for e, who in rows]


# ---------------------------------------------------------------------------------------------
# Call lists
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallListEntry:
    prospect_id: int
    name: str
    phones: tuple[str, ...]
    contact: str | None
    address: str | None
    district: str
    state: OutreachState
    last_contact_at: datetime | None
    next_action_on: date | None
    last_note: str
    existing_case: str | None  # the state of a case the bank already has for it

    def as_dict(self) -> dict[str, Any]:
        return {"prospect_id": self.prospect_id, "name": self.name, "phones": list(self.phones),
                "tel": [tel_uri(p) for p in self.phones], "contact": self.contact,
                "address": self.address, "district": self.district,
                "district_name": DALIAN_DISTRICTS[self.district][0], "state": self.state.value,
                "state_zh": STATE_NAMES[self.state][0],
                "last_contact_at": self.last_contact_at.isoformat()
                if self.last_contact_at else None,
                "next_action_on": self.next_action_on.isoformat()
                if self.next_action_on else None,
                "last_note": self.last_note, "existing_case": self.existing_case}


def call_list_owner(session: Session, actor: Actor, manager_id: int | None) -> UserRow:
    """Whose list: a client manager sees their own (asking for another's is NotFound, as an
    id out of scope is); a department manager any client manager of the sub-branch; branch
    roles anyone's."""
    wanted = manager_id
    if actor.role is Role.CLIENT_MANAGER:
        wanted = actor.user_id if manager_id in (None, actor.user_id) else None
    user = session.get(UserRow, wanted) if wanted is not None else None
    if (user is None or user.role != Role.CLIENT_MANAGER.value or (
            actor.role not in BRANCH_WIDE and user.sub_branch_code != actor.sub_branch_code)):
        raise NotFound("客户经理不存在", "client manager not found", code="manager_not_found")
    return user


def call_list(session: Session, *, actor: Actor, on: date, manager_id: int | None = None
              ) -> list[CallListEntry]:
    """The prospects a client manager should call on ``on``: theirs, not do-not-contact, still
    open, and either never given a next date or due by then. Overdue and due first (oldest
    date first), then never-contacted ones."""
    manager = call_list_owner(session, actor, manager_id)
    prospects = session.scalars(select(ProspectRow).where(
        ProspectRow.client_manager_id == manager.id, ProspectRow.do_not_contact.is_(False)
    ).order_by(ProspectRow.id)).all()
    ids = [p.id for p in prospects]
    last: dict[int, OutreachEventRow] = {}
    if ids:
        newest = select(func.max(OutreachEventRow.id)).where(
            OutreachEventRow.prospect_id.in_(ids)).group_by(OutreachEventRow.prospect_id)
        last = {e.prospect_id: e for e in session.scalars(select(OutreachEventRow).where(
            OutreachEventRow.id.in_(newest)))}
    codes = {p.institution_code or p.fixmedins_code for p in prospects} - {None}
    cases: dict[str, str] = {code: state for code, state in session.execute(
        select(CaseRow.fixmedins_code, CaseRow.state).where(
            CaseRow.fixmedins_code.in_(codes)).order_by(CaseRow.id))} if codes else {}
    entries = []
    for p in prospects:
        event = last.get(p.id)
        state = OutreachState(event.to_state) if event else OutreachState.LISTED
        due = event.next_action_on if event else None
        if state not in CALLABLE or (due is not None and due > on):
            continue
        entries.append(CallListEntry(
            prospect_id=p.id, name=p.name, phones=tuple(p.phones), contact=p.contact,
            address=p.address, district=p.district, state=state,
            last_contact_at=event.at if event else None, next_action_on=due,
            last_note=event.note if event else "",
            existing_case=cases.get(p.institution_code or p.fixmedins_code or "")))
    entries.sort(key=lambda e: (e.next_action_on is None, e.next_action_on or on,
                                e.prospect_id))
    return entries


_CALL_COLUMNS = (
    XlsxColumn("序号", 6, "int"), XlsxColumn("机构名称", 36), XlsxColumn("电话", 28),
    XlsxColumn("联系人", 10), XlsxColumn("地址", 40), XlsxColumn("区县", 10),
    XlsxColumn("当前状态", 12), XlsxColumn("上次联系", 17, "datetime"),
    XlsxColumn("下次跟进日期", 13, "date"), XlsxColumn("上次备注", 30),
    XlsxColumn("已有业务", 10), XlsxColumn("联系结果（填写）", 16), XlsxColumn("备注（填写）", 24))


def call_list_xlsx(entries: list[CallListEntry], *, manager_name: str, on: date,
                   produced_by: str, produced_at: datetime) -> bytes:
    """The call list as Excel, with two empty columns for the outcome and a note."""
    rows = [(n, e.name, "、".join(e.phones), e.contact, e.address,
             DALIAN_DISTRICTS[e.district][0], STATE_NAMES[e.state][0], e.last_contact_at,
             e.next_action_on, e.last_note, e.existing_case, "", "")
            for n, e in enumerate(entries, start=1)]
    return workbook([XlsxSheet("电话营销清单", f"电话营销清单 — {manager_name} — {on.isoformat()}",
                               _CALL_COLUMNS, rows, confidential=True)],
                    produced_by=produced_by, produced_at=produced_at)

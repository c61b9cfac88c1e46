"""SLA on the platform: the penalty list with lifting (branch managers), whether the
working-day calendar covers the coming deadlines, and the caller's inbox (reminders and
escalations the sweep wrote)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from starlette.responses import Response

from yibaodai.cases.penalties import PenaltyItem, lift_penalty, penalty_list
from yibaodai.cases.sla_policy import bank_calendar, calendar_warning, policy_of
from yibaodai.db.models import NotificationRow
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.edge import RecordId, VisibleText
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Out, send

router = api_router("sla")


class PenaltyList(Out):
    items: list[PenaltyItem]


class Lift(BaseModel):
    reason: VisibleText = Field(min_length=2, max_length=500)


class CalendarStatus(Out):
    covered: bool
    warning: str | None
    claim_working_days: int
    verify_working_days: int
    penalty_days: int


class Notice(Out):
    id: int
    at: datetime
    kind: str
    case_id: int | None
    message_zh: str
    message_en: str
    read_at: datetime | None


class Inbox(Out):
    items: list[Notice]
    unread: int


class MarkRead(BaseModel):
    """The notices to mark read (the caller's own; others are ignored), or all when absent."""

    ids: list[RecordId] | None = Field(default=None, max_length=200)


class Unread(Out):
    unread: int


@router.get("/sla/penalties", response_model=PenaltyList)
def list_penalties(ctx: Ctx, s: DbSession) -> Response:
    """Every SLA penalty, newest first, active ones marked."""
    return send(PenaltyList(items=penalty_list(s, now=ctx.clock.now())))


@router.post("/sla/penalties/{penalty_id}/lift", response_model=PenaltyItem)
def lift(penalty_id: int, body: Lift, actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    """A branch manager lifts a running penalty with a reason: new cases flow again."""
    now = ctx.clock.now()
    lifted = lift_penalty(s, actor=actor, penalty_id=penalty_id, reason=body.reason, now=now)
    s.commit()
    item = next(p for p in penalty_list(s, now=now) if p.id == lifted.id)
    return send(item)


@router.get("/sla/calendar", response_model=CalendarStatus)
def calendar_status(ctx: Ctx) -> Response:
    """The SLA policy, and a warning when coming deadlines are counted Monday-Friday."""
    warning = calendar_warning(bank_calendar(ctx.settings), ctx.clock.now())
    policy = policy_of(ctx.settings)
    return send(CalendarStatus(covered=warning is None, warning=warning,
                               claim_working_days=policy.claim_working_days,
                               verify_working_days=policy.verify_working_days,
                               penalty_days=policy.penalty_calendar_days))


def _unread(s: DbSession, user_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(NotificationRow).where(
        NotificationRow.user_id == user_id, NotificationRow.read_at.is_(None))) or 0)


@router.get("/me/notifications", response_model=Inbox)
def my_notifications(actor: CurrentActor, s: DbSession) -> Response:
    """The caller's own reminders, escalations and head-office returns, newest first (at
    most 200), with the count still unread (the bell in the layout)."""
    rows = s.scalars(select(NotificationRow).where(NotificationRow.user_id == actor.user_id)
                     .order_by(NotificationRow.id.desc()).limit(200))
    return send(Inbox(items=[Notice(id=r.id, at=r.at, kind=r.kind, case_id=r.case_id,
                                    message_zh=r.message_zh, message_en=r.message_en,
                                    read_at=r.read_at)
                             for r in rows], unread=_unread(s, actor.user_id)))


@router.post("/me/notifications/read", response_model=Unread)
def mark_read(body: MarkRead, actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    """Mark the caller's notices read (those given, or all); the count left unread."""
    query = select(NotificationRow).where(NotificationRow.user_id == actor.user_id,
                                          NotificationRow.read_at.is_(None))
    if body.ids is not None:
        query = query.where(NotificationRow.id.in_(body.ids))
    now = ctx.clock.now()
    for row in s.scalars(query):
        row.read_at = now
    s.commit()
    return send(Unread(unread=_unread(s, actor.user_id)))

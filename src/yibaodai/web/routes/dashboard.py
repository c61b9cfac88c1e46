"""The dashboard and the options every list's filters need (cascader, codes and names)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import structlog
from fastapi.responses import Response
from pydantic import TypeAdapter
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor
from yibaodai.db import changes
from yibaodai.db.models import CampaignRow, SubBranchRow, UserRow
from yibaodai.marketing.campaigns import campaign_funnel, wan
from yibaodai.reports.dashboard import Dashboard, dashboard
from yibaodai.reports.dashboard_cache import Entry
from yibaodai.reports.labels import (
    CASE_STATES,
    DISTRICTS,
    FUNNEL,
    INSTITUTION_TYPES,
    MODEL_STAGES,
    OUTBOX_STATUSES,
    ROLES,
    WARNING_LEVELS,
    WARNING_RULES,
    WARNING_STATES,
    Names,
)
from yibaodai.reports.scope import Scope
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Link, Option, Out

router = api_router("dashboard")
log = structlog.get_logger(__name__)
BRANCH = ("DL000", "大连分行", "Dalian Branch")


class Options(Out):
    org: list[Option]
    districts: list[Option]
    institution_types: list[Option]
    case_states: list[Option]
    funnel_stages: list[Option]
    warning_levels: list[Option]
    warning_states: list[Option]
    warning_rules: list[Option]
    model_stages: list[Option]
    roles: list[Option]
    outbox_statuses: list[Option]


def _options(names: Names) -> list[Option]:
    return [Option(value=str(k), label_zh=zh, label_en=en) for k, (zh, en) in names.items()]


class CampaignStep(Out):
    stage: str
    label_zh: str
    label_en: str
    count: int
    amount: str | None
    amount_wan: str | None
    link: Link


class CampaignProgress(Out):
    """A running campaign's funnel in the viewer's scope against the scope's targets (the
    targets count borrowers who drew and the amount they drew, as the leaderboard does)."""

    id: int
    name: str
    starts_on: date
    ends_on: date
    steps: list[CampaignStep]
    target_count: int | None
    target_amount: str | None
    target_amount_wan: str | None
    count_attainment: float | None
    amount_attainment: float | None
    link: Link


class DashboardOut(Dashboard):
    campaigns: list[CampaignProgress]


#: Asked by every dashboard: built once, bound per request.
_RUNNING = (select(CampaignRow).where(CampaignRow.starts_on <= bindparam("today"),
                                      CampaignRow.ends_on >= bindparam("today"))
            .order_by(CampaignRow.starts_on, CampaignRow.id))


def running_campaigns(s: Session, *, actor: Actor, today: date) -> list[CampaignProgress]:
    """Campaigns whose period includes today: each figure links to the list behind it (the
    prospects for "listed", the campaign's funnel by sub-branch for the later stages)."""
    scope = actor.sub_branch_scope()
    out = []
    for c in s.scalars(_RUNNING, {"today": today}):
        f = campaign_funnel(s, campaign_id=c.id, sub_branches=scope)
        page = Link(path=f"/marketing/campaigns/{c.id}", query={})
        steps = [CampaignStep(stage=x["stage"], label_zh=x["stage_zh"], label_en=x["stage_en"],
                              count=x["count"], amount=x["amount"], amount_wan=x["amount_wan"],
                              link=Link(path="/marketing/prospects", query={})
                              if x["stage"] == "listed" else
                              Link(path=page.path, query={"stage": x["stage"]}))
                 for x in f["total"]]
        mine = [row for row in f["leaderboard"] if scope is None or row["sub_branch"] in scope]
        counts = [row["target_count"] for row in mine if row["target_count"] is not None]
        amounts = [Decimal(row["target_amount"]) for row in mine
                   if row["target_amount"] is not None]
        drawn = next(x for x in steps if x.stage == "drawn")
        target_count = sum(counts) if counts else None
        target_amount = sum(amounts, Decimal("0.00")) if amounts else None
        out.append(CampaignProgress(
            id=c.id, name=c.name, starts_on=c.starts_on, ends_on=c.ends_on, steps=steps,
            target_count=target_count,
            target_amount=f"{target_amount:.2f}" if target_amount is not None else None,
            target_amount_wan=str(wan(target_amount)) if target_amount is not None else None,
            count_attainment=drawn.count / target_count if target_count else None,
            amount_attainment=float(Decimal(drawn.amount or 0) / target_amount)
            if target_amount else None, link=page))
    return out


@router.get("/dashboard", response_model=DashboardOut)
def get_dashboard(actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    """The scope's funnel, due work, warnings, months, and the running campaigns' progress:
    computed again only when the data, the day or a deadline passed made it differ
    (``reports.dashboard_cache``)."""
    now, today = ctx.clock.now(), ctx.clock.today()
    scope = actor.sub_branch_scope()
    seen = changes.version(s)  # before the figures: they are at least as new as it
    kept: bytes | None = ctx.dashboards.get(scope, version=seen, now=now, today=today)
    if kept is None:
        figures = dashboard(s, actor=actor, now=now, today=today)
        out = DashboardOut(**dict(figures.dashboard),
                           campaigns=running_campaigns(s, actor=actor, today=today))
        kept = out.model_dump_json(exclude={"as_of"}).encode()
        ctx.dashboards.put(scope, Entry(kept, version=seen, today=today, computed_at=now,
                                        holds_until=figures.holds_until))
        if seen[0] > changes.PRUNE_ABOVE:
            _prune_notes(s, seen)
    return _as_of(now, kept)


_INSTANT = TypeAdapter(datetime)


def _as_of(now: datetime, figures: bytes) -> Response:
    """The figures, serialised once when computed, behind the request's ``as_of`` (the
    model's first field, written as the model would write it)."""
    return Response(b'{"as_of":' + _INSTANT.dump_json(now) + b"," + figures[1:],
                    media_type="application/json")


def _prune_notes(s: Session, seen: changes.Version) -> None:
    """Keep the change notes few (``db.changes.version`` counts them), in the request's own
    transaction (on SQLite a second one would wait for this one's lock); best effort: a
    failure only leaves them for the next time. The answer just kept was keyed before the
    prune, so the next request computes once more."""
    try:
        changes.prune(s, seen)
        s.commit()
    except SQLAlchemyError as exc:
        s.rollback()
        log.warning("dashboard.prune_failed", error=str(exc))


@router.get("/options")
def get_options(actor: CurrentActor, s: DbSession) -> Options:
    """Codes and names for filters; the branch -> sub-branch -> client manager cascader is
    already scoped (a sub-branch user gets their own sub-branch only)."""
    scope = Scope.of(actor)
    managers: dict[str, list[Option]] = {}
    for u in s.scalars(select(UserRow).where(UserRow.role == "client_manager",
                                             UserRow.active.is_(True)).order_by(UserRow.id)):
        if u.sub_branch_code and scope.covers(u.sub_branch_code):
            managers.setdefault(u.sub_branch_code, []).append(
                Option(value=str(u.id), label_zh=u.display_name, label_en=u.display_name))
    subs = [Option(value=sub.code, label_zh=sub.name_zh, label_en=sub.name_en,
                   children=managers.get(sub.code, []))
            for sub in s.scalars(select(SubBranchRow).where(
                scope.sub_branch_clause(SubBranchRow.code)).order_by(SubBranchRow.code))]
    return Options(
        org=[Option(value=BRANCH[0], label_zh=BRANCH[1], label_en=BRANCH[2], children=subs)],
        districts=_options(DISTRICTS), institution_types=_options(INSTITUTION_TYPES),
        case_states=_options(CASE_STATES), funnel_stages=_options(FUNNEL),
        warning_levels=_options(WARNING_LEVELS), warning_states=_options(WARNING_STATES),
        warning_rules=_options(WARNING_RULES), model_stages=_options(MODEL_STAGES),
        roles=_options(ROLES), outbox_statuses=_options(OUTBOX_STATUSES))

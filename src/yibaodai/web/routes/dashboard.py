"""The dashboard and the options every list's filters need (cascader, codes and names)."""

from __future__ import annotations

from fastapi.responses import Response
from sqlalchemy import select

from yibaodai.db.models import SubBranchRow, UserRow
from yibaodai.reports.dashboard import Dashboard, dashboard
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
from yibaodai.web.schemas import Option, Out, send

router = api_router("dashboard")
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


@router.get("/dashboard", response_model=Dashboard)
def get_dashboard(actor: CurrentActor, ctx: Ctx, s: DbSession) -> Response:
    return send(dashboard(s, actor=actor, now=ctx.clock.now(), today=ctx.clock.today()))


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

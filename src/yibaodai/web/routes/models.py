"""Whitelist settings (department managers and above): versions, the diff of two, drafts and
lifecycle moves as the signed-in user (maker-checker on user ids), the challenger's shadow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from yibaodai.admission.service import shadow_report
from yibaodai.admission.versions import create_draft, move, version_in_stage
from yibaodai.db.models import InstitutionRow
from yibaodai.domain.model_version import Action, Stage
from yibaodai.reports.models import (
    ModelDiff,
    ModelVersion,
    ModelVersionDetail,
    VersionRef,
    diff_versions,
    list_versions,
    version_detail,
)
from yibaodai.reports.scope import Scope
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.edge import MAX_RECORD_ID
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Out

router = api_router("models")
#: A version id in the query (``?a=&b=``): within the id column's range.
VersionId = Annotated[int, Query(ge=1, le=MAX_RECORD_ID)]


class DraftRequest(BaseModel):
    from_id: int
    label: str | None = Field(default=None, min_length=1, max_length=40)
    description: str | None = Field(default=None, max_length=500)
    changes: dict[str, Any] = Field(default_factory=dict)


class ActionRequest(BaseModel):
    action: Literal["submit", "approve", "reject", "activate", "set_challenger", "retire"]


class ShadowSide(Out):
    model_version: str | None
    result: str
    credit_limit: str
    score: int | None


class ShadowItem(Out):
    decision_id: int
    fixmedins_code: str
    fixmedins_name: str
    decided_at: datetime
    active: ShadowSide
    challenger: ShadowSide
    agree: bool


class ShadowResults(Out):
    challenger: VersionRef | None
    total: int
    agree: int
    disagree: int
    items: list[ShadowItem]


@router.get("/models")
def get_versions(actor: CurrentActor, s: DbSession) -> list[ModelVersion]:
    """Every version, newest first, with its stage, history and what the caller may do."""
    return list_versions(s, actor=actor)


@router.get("/models/diff")
def get_diff(a: VersionId, b: VersionId, s: DbSession) -> ModelDiff:
    """What changes from version ``a`` to version ``b``, section by section."""
    return diff_versions(s, a, b)


@router.get("/models/shadow")
def get_shadow(actor: CurrentActor, s: DbSession) -> ShadowResults:
    """The challenger's decisions beside the active version's, latest 100 in scope."""
    challenger = version_in_stage(s, Stage.CHALLENGER)
    visible = set(s.scalars(select(InstitutionRow.fixmedins_code).where(
        Scope.of(actor).institution_clause(s))))
    names = dict(s.execute(select(InstitutionRow.fixmedins_code, InstitutionRow.fixmedins_name)
                           ).tuples().all())
    items = [ShadowItem(**{**r, "decided_at": datetime.fromisoformat(r["decided_at"]),
                           "fixmedins_name": names.get(r["fixmedins_code"], "")})
             for r in shadow_report(s, limit=100) if r["fixmedins_code"] in visible]
    agree = sum(1 for i in items if i.agree)
    return ShadowResults(challenger=VersionRef(id=challenger.id, label=challenger.label)
                         if challenger else None, total=len(items), agree=agree,
                         disagree=len(items) - agree, items=items)


@router.get("/models/{version_id}")
def get_version(version_id: int, actor: CurrentActor, s: DbSession) -> ModelVersionDetail:
    return version_detail(s, version_id, actor=actor)


@router.post("/models")
def new_draft(body: DraftRequest, actor: CurrentActor, ctx: Ctx,
              s: DbSession) -> ModelVersionDetail:
    """A new draft copying ``from_id`` with ``changes`` merged over it, by the signed-in user."""
    changes = dict(body.changes)
    if body.description is not None:
        changes["description"] = body.description
    vid = create_draft(s, from_id=body.from_id, username=actor.username, now=ctx.clock.now(),
                       label=body.label, changes=changes)
    s.commit()
    return version_detail(s, vid, actor=actor)


@router.post("/models/{version_id}/actions")
def act_on_version(version_id: int, body: ActionRequest, actor: CurrentActor, ctx: Ctx,
                   s: DbSession) -> ModelVersionDetail:
    """Submit, approve, reject, activate, set as challenger or retire, as the signed-in user."""
    move(s, version_id=version_id, action=Action(body.action), username=actor.username,
         now=ctx.clock.now())
    s.commit()
    return version_detail(s, version_id, actor=actor)

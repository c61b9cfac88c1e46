"""Whitelist model versions in the database: seed, load, and move through the lifecycle.

Every move is one append to ``model_version_events`` plus its audit row, in the caller's unit
of work; the stage of a version is derived from that log (``domain.model_version``). Content is
stored once per version with its SM3 hash and never updated; loading checks the hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record
from yibaodai.auth.roles import Role
from yibaodai.db.locks import lock_for_append
from yibaodai.db.models import ModelVersionEventRow, ModelVersionRow, UserRow
from yibaodai.domain.admission import (
    INITIAL_MODEL,
    WhitelistModel,
    canonical_json,
    content_hash_of,
    model_from_json,
)
from yibaodai.domain.model_version import (
    Acting,
    Action,
    Event,
    Refusal,
    Stage,
    activation_plan,
    challenger_plan,
    transition,
)
from yibaodai.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

SYSTEM_ACTOR = "system"
_REFUSAL_ERRORS: dict[str, type[Conflict] | type[PermissionDenied]] = {
    "role_not_allowed": PermissionDenied, "four_eyes": PermissionDenied}


@dataclass(frozen=True)
class LoadedVersion:
    id: int
    label: str
    model: WhitelistModel
    content_hash: str


# --- reading ------------------------------------------------------------------------------


def _events(session: Session, version_id: int | None = None) -> dict[int, list[Event]]:
    q = select(ModelVersionEventRow).order_by(ModelVersionEventRow.id)
    if version_id is not None:
        q = q.where(ModelVersionEventRow.model_version_id == version_id)
    out: dict[int, list[Event]] = {}
    for r in session.scalars(q):
        out.setdefault(r.model_version_id, []).append(Event(
            Action(r.action), Stage(r.from_stage) if r.from_stage else None, Stage(r.to_stage),
            r.actor_id))
    return out


def stages(session: Session) -> dict[int, Stage]:
    """The current stage of every version, derived from the event log."""
    return {vid: evs[-1].to_stage for vid, evs in _events(session).items()}


@lru_cache(maxsize=32)
def _parse(canonical: str) -> WhitelistModel:
    import json

    return model_from_json(json.loads(canonical))


def load_version(session: Session, version_id: int) -> LoadedVersion:
    """The version's content, validated, after checking it still matches its stored hash."""
    row = session.get(ModelVersionRow, version_id)
    if row is None:
        raise NotFound("模型版本不存在", f"no model version {version_id}", code="no_version")
    canonical = canonical_json(row.content)
    if content_hash_of(row.content) != row.content_hash:
        raise Conflict("模型版本内容与其哈希不符", f"model version {version_id}'s content does "
                       "not match its stored hash", code="model_tampered")
    return LoadedVersion(row.id, row.label, _parse(canonical), row.content_hash)


def version_in_stage(session: Session, stage: Stage) -> LoadedVersion | None:
    ids = [vid for vid, st in stages(session).items() if st is stage]
    if len(ids) > 1:
        raise Conflict("多个版本处于同一阶段", f"{len(ids)} versions are {stage.value}",
                       code="stage_not_unique")
    return load_version(session, ids[0]) if ids else None


def active_version(session: Session, now: datetime) -> LoadedVersion:
    """The one active version; seeds the initial version first on a database without any."""
    found = version_in_stage(session, Stage.ACTIVE)
    if found is None:
        ensure_initial_version(session, now)
        found = version_in_stage(session, Stage.ACTIVE)
    assert found is not None
    return found


def describe(session: Session) -> list[dict[str, Any]]:
    st = stages(session)
    return [{"id": r.id, "label": r.label, "stage": st.get(r.id, "?"),
             "content_hash": r.content_hash, "based_on_id": r.based_on_id,
             "created_at": r.created_at.isoformat(), "created_by": r.created_by}
            for r in session.scalars(select(ModelVersionRow).order_by(ModelVersionRow.id))]


#: What staff may do to a version (creation aside), in the order the screens show them.
STAFF_ACTIONS = (Action.SUBMIT, Action.APPROVE, Action.REJECT, Action.ACTIVATE,
                 Action.SET_CHALLENGER, Action.RETIRE)


def allowed_actions(session: Session, *, user_id: int, role: Role) -> dict[int, list[str]]:
    """Per version, the actions this user may take now: the transition rule ``move`` applies,
    asked without acting (so the buttons match what the server accepts)."""
    by = Acting(user_id, role)
    return {vid: [a.value for a in STAFF_ACTIONS
                  if not isinstance(transition(evs, a, by=by), Refusal)]
            for vid, evs in _events(session).items()}


def history(session: Session, version_id: int) -> list[dict[str, Any]]:
    return [{"at": r.at.isoformat(), "action": r.action, "from": r.from_stage,
             "to": r.to_stage, "actor": r.actor}
            for r in session.scalars(select(ModelVersionEventRow).where(
                ModelVersionEventRow.model_version_id == version_id)
                .order_by(ModelVersionEventRow.id))]


# --- writing ------------------------------------------------------------------------------


def _user(session: Session, username: str) -> UserRow:
    user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    if user is None or not user.active:
        raise NotFound("用户不存在或已停用", f"no active user {username}", code="no_user")
    return user


def _allowed(events: list[Event], action: Action, by: Acting) -> Event:
    """The domain's event for this move, or its refusal raised as an error."""
    result = transition(events, action, by=by)
    if isinstance(result, Refusal):
        err = _REFUSAL_ERRORS.get(result.code, Conflict)
        raise err(result.message_zh, result.message_en, code=result.code)
    return result


def _append(session: Session, version_id: int, action: Action, *, by: Acting, actor: str,
            now: datetime) -> ModelVersionEventRow:
    result = _allowed(_events(session, version_id).get(version_id, []), action, by)
    row = ModelVersionEventRow(
        model_version_id=version_id, at=now, action=result.action.value,
        from_stage=result.from_stage.value if result.from_stage else None,
        to_stage=result.to_stage.value, actor_id=result.actor_id, actor=actor)
    session.add(row)
    session.flush()
    record(session, at=now, actor=actor, action=f"model.{action.value}",
           target=f"model_version:{version_id}",
           details={"from": row.from_stage, "to": row.to_stage})
    return row


def create_version(session: Session, *, model: WhitelistModel, created_by: str,
                   based_on_id: int | None, now: datetime, actor_id: int | None) -> int:
    author = session.get(UserRow, actor_id) if actor_id is not None else None
    by = Acting(actor_id, Role(author.role) if author is not None else None)
    _allowed([], Action.CREATE, by)  # a refused author writes nothing
    lock_for_append(session, "model_version_events")
    if session.scalar(select(func.count()).select_from(ModelVersionRow).where(
            ModelVersionRow.label == model.version)):
        raise Conflict("版本号已存在", f"version label {model.version} exists",
                       code="label_taken")
    content = model.to_json()
    row = ModelVersionRow(label=model.version, content=content,
                          content_hash=content_hash_of(content), based_on_id=based_on_id,
                          created_at=now, created_by=created_by)
    session.add(row)
    session.flush()
    _append(session, row.id, Action.CREATE, by=by, actor=created_by, now=now)
    return row.id


def ensure_initial_version(session: Session, now: datetime) -> int | None:
    """Seed today's rule as the first version, approved and active, if there is none.
    Done by the system (documented exception to maker-checker: nothing to check against)."""
    lock_for_append(session, "model_version_events")
    if session.scalar(select(func.count()).select_from(ModelVersionRow)):
        return None
    vid = create_version(session, model=INITIAL_MODEL, created_by=SYSTEM_ACTOR,
                         based_on_id=None, now=now, actor_id=None)
    system = Acting(None, None)
    for action in (Action.SUBMIT, Action.APPROVE, Action.ACTIVATE):
        _append(session, vid, action, by=system, actor=SYSTEM_ACTOR, now=now)
    return vid


def seed_model_versions(session: Session, now: datetime | None = None) -> int | None:
    """The start-up seed step (``runtime.prepare_database``); idempotent."""
    from yibaodai.clock import SystemClock

    return ensure_initial_version(session, now or SystemClock().now())


def create_draft(session: Session, *, from_id: int, username: str, now: datetime,
                 label: str | None = None, changes: dict[str, Any] | None = None) -> int:
    """A new draft copying version ``from_id``, with a new label and optional changes (a
    partial content dict merged over the copy, validated as a whole)."""
    user = _user(session, username)
    base = load_version(session, from_id)
    content = base.model.to_json()
    _merge(content, changes or {})
    content["version"] = label or _next_label(session, base.label)
    try:
        model = model_from_json(content)
    except PydanticValidationError as exc:
        raise ValidationFailed("模型内容无效", "invalid model content", code="invalid_model",
                               fields=[FieldError(
                                   "changes." + ".".join(str(p) for p in e["loc"]),
                                   "取值无效", str(e["msg"])) for e in exc.errors()]) from exc
    except ValueError as exc:
        raise ValidationFailed("模型内容无效", f"invalid model content: {exc}",
                               code="invalid_model") from exc
    return create_version(session, model=model, created_by=user.username,
                          based_on_id=from_id, now=now, actor_id=user.id)


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _next_label(session: Session, label: str) -> str:
    stem = label.rsplit("-r", 1)[0] if "-r" in label else label
    taken = set(session.scalars(select(ModelVersionRow.label)))
    n = 2
    while f"{stem}-r{n}" in taken:
        n += 1
    return f"{stem}-r{n}"[:40]


def move(session: Session, *, version_id: int, action: Action, username: str,
         now: datetime) -> Stage:
    """Apply a staff member's action (submit, approve, reject, activate, set_challenger,
    retire). Activating retires the previous active version; setting a challenger retires
    the previous challenger — both by the system, in the same transaction."""
    user = _user(session, username)
    by = Acting(user.id, Role(user.role))
    lock_for_append(session, "model_version_events")
    if session.get(ModelVersionRow, version_id) is None:
        raise NotFound("模型版本不存在", f"no model version {version_id}", code="no_version")
    if action in (Action.ACTIVATE, Action.SET_CHALLENGER):
        # check the target's own move first, so a refusal changes nothing
        _allowed(_events(session, version_id).get(version_id, []), action, by)
        plan = (activation_plan if action is Action.ACTIVATE else challenger_plan)(
            stages(session), version_id)
        for vid, step in plan:
            if vid == version_id:
                _append(session, vid, step, by=by, actor=user.username, now=now)
            else:
                _append(session, vid, step, by=Acting(None, None), actor=SYSTEM_ACTOR, now=now)
    else:
        _append(session, version_id, action, by=by, actor=user.username, now=now)
    return stages(session)[version_id]

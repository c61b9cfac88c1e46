"""From a build to a model version in the approval flow, with its reports attached.

``export_version`` writes the build's scorecards — one per served segment, the card that
segment runs — into a new draft copied from a base version (policy and limit rule kept, unless
``changes`` says otherwise), through ``admission.versions.create_draft``: the same validation,
the same lifecycle, the same audit. The build report (and a validation report when given) is
attached to the version (``model_reports``, SM3-hashed, audited), so the checker can read it
and monitoring can measure the live population against its development rows. With
``submit``, the draft goes on to submitted in the same transaction.

Only facts the engine gives a scorecard may be exported (``catalogue.CATALOGUE``); a card built
on another table's columns is refused field by field.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.admission.versions import active_version, create_draft, load_version, move
from yibaodai.audit.log import record
from yibaodai.db.models import ModelReportRow
from yibaodai.domain.admission import canonical_json
from yibaodai.domain.model_version import Action
from yibaodai.errors import Conflict, FieldError, ValidationFailed
from yibaodai.modelkit.build import ALL, BuildReport
from yibaodai.modelkit.catalogue import CATALOGUE


def _sm3(content: dict[str, Any]) -> str:
    return hashlib.new("sm3", canonical_json(content).encode()).hexdigest()


def attach_report(session: Session, *, version_id: int, kind: str, content: dict[str, Any],
                  actor: str, now: datetime) -> int:
    row = ModelReportRow(kind=kind, model_version_id=version_id, created_at=now,
                         created_by=actor, content=content, content_hash=_sm3(content))
    session.add(row)
    session.flush()
    record(session, at=now, actor=actor, action="model.report",
           target=f"model_version:{version_id}",
           details={"kind": kind, "report_id": row.id, "content_hash": row.content_hash})
    return row.id


def latest_report(session: Session, *, version_id: int, kind: str) -> dict[str, Any] | None:
    """The version's latest report of ``kind``, after checking its hash."""
    row = session.scalars(select(ModelReportRow).where(
        ModelReportRow.model_version_id == version_id, ModelReportRow.kind == kind)
        .order_by(ModelReportRow.id.desc()).limit(1)).first()
    if row is None:
        return None
    if _sm3(row.content) != row.content_hash:
        raise Conflict("模型报告内容与其哈希不符", f"model report {row.id} does not match its "
                       "stored hash", code="model_report_tampered")
    return row.content


def scorecard_changes(build: BuildReport, *, served: tuple[str, ...],
                      cutoff: int | None = None) -> dict[str, Any]:
    """The ``scorecards`` part of a version's content, or the field errors that stop it."""
    errors: list[FieldError] = []
    cards: dict[str, Any] = {}
    for segment in served:
        key = ALL if ALL in build.segment_models else segment
        if key not in build.segment_models:
            errors.append(FieldError(f"segment_models.{segment}", f"没有“{segment}”的评分卡",
                                     f"the build has no scorecard for {segment}"))
            continue
        card = build.card_for(key)
        for n, ch in enumerate(card.characteristics):
            if ch.feature not in CATALOGUE:
                errors.append(FieldError(
                    f"models.{build.segment_models[key]}.scorecard.characteristics.{n}",
                    f"“{ch.feature}”不是准入引擎提供的评分项",
                    f"{ch.feature} is not a fact the admission engine scores"))
        if cutoff is not None:
            card = card.model_copy(update={"cutoff": cutoff})
        cards[segment] = card.model_dump(mode="json")
    if errors:
        raise ValidationFailed("构建结果不能导出为模型版本", "the build cannot be exported as a "
                               "model version", code="not_exportable", fields=errors)
    return {"scorecards": cards}


def export_version(session: Session, *, build: BuildReport, username: str, now: datetime,
                   base_id: int | None = None, label: str | None = None,
                   cutoff: int | None = None, changes: dict[str, Any] | None = None,
                   validation: dict[str, Any] | None = None, submit: bool = False) -> int:
    """A new draft (then submitted, with ``submit``) carrying the build's scorecards; its id."""
    base = load_version(session, base_id) if base_id is not None else \
        active_version(session, now)
    content = {**(changes or {}), **scorecard_changes(
        build, served=base.model.policy.served_segments, cutoff=cutoff)}
    content.setdefault("description", f"模型工作台构建 / built in the model workbench from "
                                      f"{build.source or 'a labelled table'}"[:200])
    vid = create_draft(session, from_id=base.id, username=username, now=now, label=label,
                       changes=content)
    attach_report(session, version_id=vid, kind="build", content=build.model_dump(mode="json"),
                  actor=username, now=now)
    if validation is not None:
        attach_report(session, version_id=vid, kind="validation", content=validation,
                      actor=username, now=now)
    if submit:
        move(session, version_id=vid, action=Action.SUBMIT, username=username, now=now)
    return vid

"""Whitelist settings for department managers and above: the model versions with their stage
and history, and a structured diff of two versions' content (policy, scorecards, limit rule)
for a side-by-side view. Changes go through ``admission.versions`` (maker-checker on user ids)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.admission.versions import allowed_actions, history, load_version, stages
from yibaodai.auth.roles import Actor
from yibaodai.db.models import ModelVersionRow
from yibaodai.reports.labels import MODEL_STAGES, name
from yibaodai.reports.schema import Out

SECTIONS = {"policy": ("准入政策", "Policy"), "scorecards": ("评分卡", "Scorecards"),
            "limit": ("额度规则", "Limit rule"), "description": ("说明", "Description")}
#: Labels of the settings a manager changes most; other paths show as they are.
PATH_LABELS = {
    "policy.served_segments": ("服务的机构类型", "Institution types served"),
    "policy.refused_ownership": ("不服务的所有制", "Ownership refused"),
    "policy.normal_biz_stas": ("正常经营状态", "Normal operating status"),
    "policy.min_months_of_history": ("最短结算历史（月）", "Minimum history (months)"),
    "policy.penalty_window_months": ("处罚回看期（月）", "Penalty window (months)"),
    "policy.refused_credit_grades": ("拒绝的信用等级", "Credit grades refused"),
    "policy.min_avg_monthly_fund_pay": ("最低月均统筹支付（元）",
                                        "Minimum monthly fund payment (yuan)"),
    "policy.max_decline_3m": ("近3个月最大降幅", "Maximum 3-month decline"),
    "policy.min_designation_days_left": ("定点协议最短剩余天数", "Minimum designation days left"),
    "policy.min_months_designated": ("最短定点月数", "Minimum months designated"),
    "limit.basis_feature": ("额度基数", "Limit basis"),
    "limit.multiple": ("额度倍数", "Multiple"),
    "limit.unstable_cv": ("波动阈值", "Instability threshold"),
    "limit.unstable_factor": ("波动下调系数", "Instability factor"),
    "limit.declining_growth": ("下降阈值", "Decline threshold"),
    "limit.declining_factor": ("下降下调系数", "Decline factor"),
    "limit.policy_cap": ("政策上限（元）", "Policy cap (yuan)"),
    "limit.unit": ("额度取整单位（元）", "Limit unit (yuan)"),
}


class VersionEvent(Out):
    at: datetime
    action: str
    from_stage: str | None
    to_stage: str
    actor: str


class ModelVersion(Out):
    id: int
    label: str
    stage: str
    stage_zh: str
    stage_en: str
    description: str
    based_on_id: int | None
    created_at: datetime
    created_by: str
    content_hash: str
    history: list[VersionEvent]
    #: what the caller may do to this version now (the rule the actions enforce)
    actions: list[str]


class ModelVersionDetail(ModelVersion):
    content: dict[str, Any]


class VersionRef(Out):
    id: int
    label: str


class Change(Out):
    path: str
    label_zh: str
    label_en: str
    change: str
    a: str | None
    b: str | None


class Section(Out):
    key: str
    label_zh: str
    label_en: str
    changes: list[Change]


class ModelDiff(Out):
    a: VersionRef
    b: VersionRef
    sections: list[Section]


def _out(session: Session, row: ModelVersionRow, stage: str,
         actions: list[str]) -> ModelVersion:
    zh, en = name(MODEL_STAGES, stage)
    return ModelVersion(
        id=row.id, label=row.label, stage=stage, stage_zh=zh, stage_en=en,
        description=str(row.content.get("description", "")), based_on_id=row.based_on_id,
        created_at=row.created_at, created_by=row.created_by, content_hash=row.content_hash,
        history=[VersionEvent(at=datetime.fromisoformat(h["at"]), action=h["action"],
                              from_stage=h["from"], to_stage=h["to"], actor=h["actor"])
                 for h in history(session, row.id)], actions=actions)


def list_versions(session: Session, *, actor: Actor) -> list[ModelVersion]:
    st = stages(session)
    may = allowed_actions(session, user_id=actor.user_id, role=actor.role)
    return [_out(session, r, st.get(r.id, "draft"), may.get(r.id, [])) for r in
            session.scalars(select(ModelVersionRow).order_by(ModelVersionRow.id.desc()))]


def version_detail(session: Session, version_id: int, *, actor: Actor) -> ModelVersionDetail:
    loaded = load_version(session, version_id)  # NotFound, and checks the stored hash
    row = session.get(ModelVersionRow, loaded.id)
    assert row is not None
    may = allowed_actions(session, user_id=actor.user_id, role=actor.role)
    base = _out(session, row, stages(session).get(row.id, "draft"), may.get(row.id, []))
    return ModelVersionDetail(**base.model_dump(), content=loaded.model.to_json())


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested content as ``path -> leaf``. Lists of characteristics are keyed by feature (so a
    reordering is no change); other lists are leaves."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list) and value and all(
            isinstance(x, dict) and "feature" in x for x in value):
        out = {}
        for x in value:
            out |= flatten({k: v for k, v in x.items() if k != "feature"},
                           f"{prefix}[{x['feature']}]")
        return out
    return {prefix: value}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def diff_versions(session: Session, a_id: int, b_id: int) -> ModelDiff:
    a, b = load_version(session, a_id), load_version(session, b_id)
    fa, fb = flatten(a.model.to_json()), flatten(b.model.to_json())
    sections: dict[str, list[Change]] = {k: [] for k in SECTIONS}
    for path in sorted(fa.keys() | fb.keys()):
        section = path.split(".", 1)[0].split("[", 1)[0]
        if section not in sections or fa.get(path) == fb.get(path):
            continue
        kind = "added" if path not in fa else "removed" if path not in fb else "changed"
        zh, en = PATH_LABELS.get(path, (path, path))
        sections[section].append(Change(path=path, label_zh=zh, label_en=en, change=kind,
                                        a=_text(fa.get(path)), b=_text(fb.get(path))))
    return ModelDiff(
        a=VersionRef(id=a.id, label=a.label), b=VersionRef(id=b.id, label=b.label),
        sections=[Section(key=k, label_zh=SECTIONS[k][0], label_en=SECTIONS[k][1], changes=v)
                  for k, v in sections.items()])


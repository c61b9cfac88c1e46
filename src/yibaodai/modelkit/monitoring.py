"""Monthly stability of the live population against a version's development sample.

Live population: the stored inputs of every decision of the month (the through-the-door
population as the engine saw it), kept where the version's own knock-outs let it through to
the scorecard — the population the scorecard was developed on. Each month and segment is scored
with the version's card: PSI of the score over the development score bands, CSI of every
characteristic over its bins, each with its status (0.10 / 0.25) and small-population caution
(``metrics``). A month of a few dozen decisions is noisy: read ``caution`` before acting on a
"watch".

Development: the build report attached to the version at export (``model_reports``), or — for
a version built elsewhere, such as the initial rule — a development sample given here, scored
with the version's own cards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibaodai.admission.versions import LoadedVersion, active_version, load_version
from yibaodai.clock import SHANGHAI
from yibaodai.domain.admission import AdmissionInputs
from yibaodai.errors import Conflict, NotFound
from yibaodai.modelkit import metrics
from yibaodai.modelkit.build import ALL, BuildReport, Development, development
from yibaodai.modelkit.excel import Column, Sheet
from yibaodai.modelkit.export import latest_report
from yibaodai.modelkit.samples import decisions_between, months_back, population
from yibaodai.modelkit.validation import psi_rows, stability_against, stability_sheet


def baseline(session: Session, version: LoadedVersion,
             sample: Sequence[AdmissionInputs] | None = None) -> dict[str, Development]:
    """Per segment, the development distribution the version is monitored against."""
    if sample is not None:
        rows = population(sample, policy=version.model.policy)
        return {seg: development(card, rows.segment(seg), model=version.label)
                for seg, card in version.model.scorecards.items()}
    stored = latest_report(session, version_id=version.id, kind="build")
    if stored is None:
        raise NotFound("该版本没有开发样本报告，请提供开发样本",
                       f"version {version.label} has no build report attached; give a "
                       "development sample", code="no_development")
    build = BuildReport.model_validate(stored)
    out = {}
    for seg, card in version.model.scorecards.items():
        dev = build.development.get(seg) or build.development.get(ALL)
        if dev is None or set(dev.characteristic_counts) != {
                c.feature for c in card.characteristics}:
            raise Conflict("开发样本报告与版本的评分卡不一致",
                           f"the build report attached to {version.label} does not match its "
                           f"{seg} scorecard", code="development_mismatch")
        out[seg] = dev
    return out


def monthly_stability(session: Session, *, now: datetime, months: int = 6,
                      version_id: int | None = None,
                      sample: Sequence[AdmissionInputs] | None = None,
                      visible: Container[str] | None = None) -> dict[str, Any]:
    """PSI/CSI per month (the last ``months`` calendar months up to ``now``) and segment;
    ``visible``: only decisions on these institution codes (a data scope; None: all)."""
    version = load_version(session, version_id) if version_id is not None else \
        active_version(session, now)
    dev = baseline(session, version, sample)
    decided = decisions_between(session, start=months_back(now, months), end=now)
    by_month: dict[str, list[AdmissionInputs]] = defaultdict(list)
    for at, inputs in decided:
        if visible is not None and inputs.fixmedins_code not in visible:
            continue
        by_month[f"{at.astimezone(SHANGHAI):%Y-%m}"].append(inputs)
    out = []
    for month in sorted(by_month):
        rows = population(by_month[month], policy=version.model.policy)
        segments = []
        for seg, base in dev.items():
            part = rows.segment(seg)
            stability = stability_against(version.model.scorecards[seg], base, part) \
                if len(part) else None
            segments.append({"segment": seg, "rows": len(part), "stability": stability})
        out.append({"month": month, "decisions": len(by_month[month]), "in_policy": len(rows),
                    "segments": segments})
    return {"kind": "monitoring", "version_id": version.id, "version": version.label,
            "as_of": now.isoformat(), "thresholds": metrics.THRESHOLDS,
            "development_rows": {seg: d.rows for seg, d in dev.items()}, "months": out}


def sheets(report: dict[str, Any]) -> list[Sheet]:
    rows = [{"month": m["month"], **r} for m in report["months"] for s in m["segments"]
            if s["stability"] for r in psi_rows(s["segment"], s["stability"])]
    return [stability_sheet("Monthly PSI", f"月度稳定性监测 Monthly PSI / CSI — "
                            f"{report['version']}", rows, first=Column("month", "月份 month"))]

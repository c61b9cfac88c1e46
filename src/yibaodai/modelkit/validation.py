"""The validation report of a build: is the score good, calibrated, and stable?

Per segment (each scored by the card it will run; a table without segments is one view,
"all"): discrimination (AUC, KS, Gini) on the build's development, test and out-of-time rows
and on the labelled sample given here (with its own out-of-time part, the latest dates, when it
has dates); calibration by score band; approvals and bad rates at each candidate cut-off; and the
PSI of the score and the CSI of each characteristic of a recent population against the
development rows, with the thresholds and the small-population caution of ``metrics``.

``validate`` returns plain JSON (for the page); ``sheets`` lays the same JSON out for Excel.
"""

from __future__ import annotations

from typing import Any

from yibaodai.domain.scorecard import Scorecard
from yibaodai.modelkit import metrics
from yibaodai.modelkit.build import ALL, BuildReport, Development
from yibaodai.modelkit.excel import Column, Sheet
from yibaodai.modelkit.scoring import bin_labels, position_counts, score_frame
from yibaodai.modelkit.table import LabelledTable, Population, split


def _view(rows: Population | None, segment: str) -> Population | None:
    if rows is None:
        return None
    if segment == ALL or rows.segments is None:
        return rows
    return rows.segment(segment)


def stability_of(build: BuildReport, segment: str, recent: Population) -> dict[str, Any]:
    """PSI of the score and CSI of each characteristic: ``recent`` against development."""
    return stability_against(build.card_for(segment), build.development[segment], recent)


def stability_against(card: Scorecard, dev: Development,
                      recent: Population) -> dict[str, Any]:
    """PSI of ``card``'s score and CSI of its characteristics: ``recent`` against ``dev``."""
    scores = score_frame(card, recent.frame)
    out: dict[str, Any] = {
        "score": metrics.stability(dev.score_counts, metrics.band_counts(dev.score_edges, scores),
                                   metrics.band_labels(dev.score_edges)),
        "characteristics": {}}
    for ch in card.characteristics:
        out["characteristics"][ch.feature] = metrics.stability(
            dev.characteristic_counts[ch.feature],
            position_counts(ch, recent.frame.get(ch.feature), len(recent)), bin_labels(ch))
    return out


def _labelled(build: BuildReport, segment: str, sample: LabelledTable) -> dict[str, Any]:
    card, bands = build.card_for(segment), build.development[segment].score_edges
    scores = score_frame(card, sample.frame)
    out: dict[str, Any] = {
        "sample": metrics.discrimination(sample.target, scores),
        "calibration": metrics.calibration(sample.target, scores, bands, build.params.scaling),
        "cutoffs": metrics.cutoff_table(sample.target, scores, [*bands, card.cutoff]),
        "out_of_time": None}
    if sample.dates is not None:
        oot = split(sample, test_share=0, oot_share=build.params.oot_share).oot
        if oot is not None:
            out["out_of_time"] = metrics.discrimination(oot.target,
                                                        score_frame(card, oot.frame))
    return out


def validate(build: BuildReport, *, sample: LabelledTable | None = None,
             recent: Population | None = None, subject: str = "") -> dict[str, Any]:
    views = []
    for segment in build.development:
        fit = build.fit_for(segment)
        view: dict[str, Any] = {"segment": segment, "model": fit.key,
                                "cutoff": fit.scorecard.cutoff,
                                "development": fit.metrics, "sample": None,
                                "calibration": [], "cutoffs": [], "out_of_time": None,
                                "stability": None}
        part = _view(sample, segment)
        if isinstance(part, LabelledTable) and len(part):
            view |= _labelled(build, segment, part)
        later = _view(recent, segment)
        if later is not None and len(later):
            view["stability"] = stability_of(build, segment, later)
        views.append(view)
    cautions = [f"{v['segment']}: {what} — small population, PSI noise floor "
                f"{r['noise_floor']:.3f}" for v in views if v["stability"]
                for what, r in _checks(v["stability"])
                if r["caution"] and r["noise_floor"] is not None]
    return {"kind": "validation", "subject": subject or build.source,
            "thresholds": metrics.THRESHOLDS, "bad_label": build.bad_label,
            "sample_rows": len(sample) if sample is not None else 0,
            "recent_rows": len(recent) if recent is not None else 0,
            "segments": views, "cautions": cautions}


# --- Excel ----------------------------------------------------------------------------------

_DISCRIMINATION = [Column("rows", "行数 rows", "int"), Column("bads", "坏样本 bads", "int"),
                   Column("bad_rate", "坏账率 bad rate", "rate"), Column("auc", "AUC", "float"),
                   Column("ks", "KS", "float"), Column("gini", "Gini", "float")]


def _psi_row(segment: str, what: str, r: dict[str, Any]) -> dict[str, Any]:
    return {"segment": segment, "what": what, "value": r["value"], "status": r["status"],
            "noise_floor": r["noise_floor"], "caution": "是 yes" if r["caution"] else "",
            "expected_rows": r["expected_rows"], "actual_rows": r["actual_rows"]}


def sheets(report: dict[str, Any]) -> list[Sheet]:
    summary, calibration, cutoffs, psi, bins = [], [], [], [], []
    for v in report["segments"]:
        seg = v["segment"]
        parts = {**{f"development/{k}": m for k, m in v["development"].items()},
                 "sample": v["sample"], "out_of_time (sample)": v["out_of_time"]}
        summary += [{"segment": seg, "model": v["model"], "cutoff": v["cutoff"], "rows_of": k,
                     **m} for k, m in parts.items() if m]
        calibration += [{"segment": seg, **row} for row in v["calibration"]]
        cutoffs += [{"segment": seg, **row} for row in v["cutoffs"]]
        if v["stability"]:
            psi += psi_rows(seg, v["stability"])
            bins += [{"segment": seg, "what": what, **b}
                     for what, r in _checks(v["stability"]) for b in r["bins"]]
    seg = Column("segment", "分段 segment")
    return [
        Sheet("Summary", f"模型验证 Validation — {report['subject']}",
              [seg, Column("model", "模型 model"), Column("cutoff", "分数线 cut-off", "int"),
               Column("rows_of", "样本 rows of"), *_DISCRIMINATION], summary),
        Sheet("Calibration", "分数段校准 Calibration by score band",
              [seg, Column("band", "分数段 band"), Column("rows", "行数 rows", "int"),
               Column("bads", "坏样本 bads", "int"),
               Column("observed_bad_rate", "实际坏账率 observed", "rate"),
               Column("predicted_bad_rate", "预测坏账率 predicted", "rate"),
               Column("binomial_p_value", "二项检验p值 p-value", "float")], calibration),
        Sheet("Cut-offs", "分数线 Approval and bad rate by cut-off",
              [seg, Column("cutoff", "分数线 cut-off", "int"),
               Column("approved", "通过数 approved", "int"),
               Column("approval_rate", "通过率 approval rate", "rate"),
               Column("bad_rate_approved", "通过者坏账率 bad rate approved", "rate"),
               Column("bad_rate_refused", "拒绝者坏账率 bad rate refused", "rate")], cutoffs),
        stability_sheet("Stability", "稳定性 PSI / CSI (阈值 0.10 / 0.25)", psi),
        Sheet("Stability bins", "稳定性明细 PSI / CSI by bin",
              [seg, Column("what", "对象 score/feature"), Column("bin", "区间 bin"),
               Column("expected", "开发样本 development", "int"),
               Column("actual", "近期样本 recent", "int"),
               Column("expected_share", "开发占比 development %", "rate"),
               Column("actual_share", "近期占比 recent %", "rate"),
               Column("contribution", "贡献 contribution", "float")], bins),
    ]


def stability_sheet(name: str, title: str, rows: list[dict[str, Any]],
                    first: Column | None = None) -> Sheet:
    lead = [first] if first is not None else []
    return Sheet(name, title, [
        *lead, Column("segment", "分段 segment"), Column("what", "对象 score/feature"),
        Column("value", "PSI/CSI", "float"), Column("status", "状态 status"),
        Column("noise_floor", "抽样噪声 noise floor", "float"),
        Column("caution", "小样本提示 caution"), Column("expected_rows", "开发行数", "int"),
        Column("actual_rows", "近期行数", "int")], rows)


def _checks(stability: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("score", stability["score"]), *stability["characteristics"].items()]


def psi_rows(segment: str, stability: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per PSI/CSI result of ``stability_of`` (the score first)."""
    return [_psi_row(segment, what, r) for what, r in _checks(stability)]


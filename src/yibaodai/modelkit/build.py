"""Building scorecards from a labelled table: binning -> selection -> regression -> points.

``build(table, params)`` splits the table (``table.split``), then fits one pooled model on
every development row and, for each segment (pharmacy, clinic, hospital) with enough rows and
bads of its own, a segment model; a segment without enough data is scored by the pooled model
and the report says so. Each model: optimal binning of every candidate (``binning``), the
selection (``selection``), the regression and its points (``regression``), the cut-off that
admits ``approval_rate`` of the development rows, and what validation and monitoring need
later: the development distribution of the score and of every characteristic.

The result, ``BuildReport``, is plain JSON (a file between commands, a stored report once
exported); ``card_for(segment)`` is the scorecard the engine will run for that segment.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from threadpoolctl import threadpool_limits

from yibaodai.domain.scorecard import Scorecard
from yibaodai.modelkit import metrics
from yibaodai.modelkit.binning import FeatureBinning, fit_binning
from yibaodai.modelkit.excel import Column, Sheet
from yibaodai.modelkit.regression import (
    Scaling,
    cutoff_for_approval,
    fit_with_signs,
    scorecard,
)
from yibaodai.modelkit.scoring import bin_labels, position_counts, score_frame
from yibaodai.modelkit.selection import Choice, mark_wrong_sign, select
from yibaodai.modelkit.table import LabelledTable, Population, split

_P = TypeVar("_P", bound=Population)
POOLED = "pooled"
ALL = "all"
SEGMENTS = ("pharmacy", "clinic", "hospital")
#: progress(step description, steps done, steps in all)
Progress = Callable[[str, int, int], None]


class _Json(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuildParams(_Json):
    pdo: float = Field(20.0, gt=0)
    base_score: float = 600.0
    base_odds: float = Field(50.0, gt=0)
    min_iv: float = Field(0.02, ge=0)
    max_correlation: float = Field(0.7, gt=0, le=1)
    max_csi: float = Field(0.25, gt=0)
    test_share: float = Field(0.3, ge=0, lt=1)
    oot_share: float = Field(0.2, ge=0, lt=1)
    seed: int = 42
    approval_rate: float = Field(0.85, gt=0, le=1)
    segments: tuple[str, ...] = SEGMENTS
    min_segment_rows: int = Field(300, ge=1)
    min_segment_bads: int = Field(30, ge=1)

    @property
    def scaling(self) -> Scaling:
        return Scaling(self.pdo, self.base_score, self.base_odds)


class BinReport(_Json):
    bin: str
    rows: int
    bads: int
    bad_rate: float | None
    woe: float
    points: int | None


class CharacteristicReport(_Json):
    feature: str
    categorical: bool
    trend: str
    solver_status: str
    iv: float
    csi: float | None
    selected: bool
    reason: str
    detail: str
    coefficient: float | None
    bins: list[BinReport]


class Development(_Json):
    """One segment's development rows, scored by the card that segment runs: what stability
    (PSI of the score over the model's score bands, CSI over each characteristic's bins) is
    measured against later."""

    model: str
    rows: int
    #: Inner edges of the score bands: deciles of the model's development scores.
    score_edges: list[int]
    score_counts: list[int]
    characteristic_counts: dict[str, list[int]]


class ModelFit(_Json):
    key: str
    scorecard: Scorecard
    intercept: float
    penalty_c: float
    characteristics: list[CharacteristicReport]
    metrics: dict[str, dict[str, Any]]


class BuildReport(_Json):
    kind: Literal["build"] = "build"
    source: str
    params: BuildParams
    bad_label: str
    rows: dict[str, int]
    models: dict[str, ModelFit]
    #: Which model scores each segment (``ALL``: a table without segments).
    segment_models: dict[str, str]
    development: dict[str, Development]
    notes: list[str]
    libraries: dict[str, str]

    def fit_for(self, segment: str) -> ModelFit:
        return self.models[self.segment_models.get(segment, POOLED)]

    def card_for(self, segment: str) -> Scorecard:
        return self.fit_for(segment).scorecard


def libraries() -> dict[str, str]:
    return {name: version(name) for name in ("optbinning", "scikit-learn", "scipy", "pandas",
                                             "numpy")}


def _binnings(train: LabelledTable) -> dict[str, FeatureBinning]:
    categorical = set(train.categorical)
    return {f: fit_binning(f, train.frame[f], train.target, categorical=f in categorical)
            for f in train.frame.columns}


def _csi(binnings: dict[str, FeatureBinning], train: pd.DataFrame,
         reference: Population | None) -> dict[str, float] | None:
    if reference is None or len(reference) == 0:
        return None
    later = reference.frame
    out = {}
    for feature, b in binnings.items():
        ch = b.characteristic()
        result = metrics.stability(position_counts(ch, train[feature], len(train)),
                                   position_counts(ch, later.get(feature), len(later)),
                                   bin_labels(ch))
        out[feature] = result["value"]
    return out


def _report(b: FeatureBinning, choice: Choice, card: Scorecard,
            coefficient: float | None) -> CharacteristicReport:
    ch = next((c for c in card.characteristics if c.feature == b.feature), None)
    points: list[int | None] = [None] * len(b.stats)
    if ch is not None:
        bins = ch.category_bins or ch.numeric_bins
        points = [*(p.points for p in bins), ch.missing_points, ch.other_points]
    return CharacteristicReport(
        feature=b.feature, categorical=b.categorical, trend=b.trend, solver_status=b.status,
        iv=b.iv, csi=choice.csi, selected=choice.kept, reason=choice.reason,
        detail=choice.detail, coefficient=coefficient,
        bins=[BinReport(bin=s.label, rows=s.count, bads=s.bads, bad_rate=s.bad_rate, woe=s.woe,
                        points=p) for s, p in zip(b.stats, points, strict=True)])


def fit_model(key: str, train: LabelledTable, *, holdouts: dict[str, LabelledTable | None],
              reference: Population | None, params: BuildParams) -> ModelFit:
    """One scorecard on ``train``; ``holdouts`` (test, oot) are only measured on."""
    binnings = _binnings(train)
    woe = pd.DataFrame({f: b.woe(train.frame[f]) for f, b in binnings.items()})
    choices = select(binnings, woe, min_iv=params.min_iv,
                     max_correlation=params.max_correlation,
                     csi=_csi(binnings, train.frame, reference), max_csi=params.max_csi)
    kept = [c.feature for c in choices if c.kept]
    logit, dropped = fit_with_signs(woe, train.target, kept,
                                    iv={f: b.iv for f, b in binnings.items()}, seed=params.seed)
    choices = mark_wrong_sign(choices, dropped)
    draft = scorecard(binnings, logit, params.scaling, cutoff=0)
    scores = score_frame(draft, train.frame)
    card = draft.model_copy(update={"cutoff": cutoff_for_approval(scores,
                                                                  params.approval_rate)})
    measured = {"train": metrics.discrimination(train.target, scores)}
    for name, part in holdouts.items():
        if part is not None and len(part):
            measured[name] = metrics.discrimination(part.target, score_frame(card, part.frame))
    reports = [_report(binnings[c.feature], c, card, logit.coefficients.get(c.feature))
               for c in choices]
    return ModelFit(key=key, scorecard=card, intercept=logit.intercept,
                    penalty_c=logit.penalty_c, characteristics=reports, metrics=measured)


def development(card: Scorecard, rows: Population, *, model: str,
                edges: list[int] | None = None) -> Development:
    """``rows`` (one segment's development rows) as ``card`` scores them, over ``edges``
    (default: the deciles of these rows' scores)."""
    scores = score_frame(card, rows.frame)
    edges = metrics.band_edges(scores) if edges is None else edges
    return Development(
        model=model, rows=len(rows), score_edges=edges,
        score_counts=metrics.band_counts(edges, scores),
        characteristic_counts={ch.feature: position_counts(ch, rows.frame.get(ch.feature),
                                                           len(rows))
                               for ch in card.characteristics})


def _part(table: _P | None, segment: str) -> _P | None:
    return None if table is None or table.segments is None else table.segment(segment)


def build(table: LabelledTable, *, params: BuildParams | None = None, source: str = "",
          recent: Population | None = None, progress: Progress | None = None) -> BuildReport:
    """The pooled model and the segment models that have enough data (see the module doc).
    ``recent``: a later population, for the stability screen when the table has no dates.

    BLAS runs single-threaded here: the regressions are small, and on a shared machine
    threads spinning against each other made them several times slower."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _build(table, params or BuildParams(), source, recent, progress)


def _build(table: LabelledTable, params: BuildParams, source: str, recent: Population | None,
           progress: Progress | None) -> BuildReport:
    parts = split(table, test_share=params.test_share, oot_share=params.oot_share,
                  seed=params.seed)
    reference: Population | None = parts.oot if parts.oot is not None else recent
    own, notes = [], []
    for seg in params.segments if table.segments is not None else ():
        seg_train = parts.train.segment(seg)
        if len(seg_train) >= params.min_segment_rows and \
                seg_train.bads >= params.min_segment_bads:
            own.append(seg)
        else:
            notes.append(f"{seg}: pooled model ({len(seg_train)} development rows, "
                         f"{seg_train.bads} bads; a segment model needs "
                         f"{params.min_segment_rows} and {params.min_segment_bads})")
    if table.segments is None:
        notes.append("no segment column: one pooled model for every segment")
    plan = [(POOLED, parts.train, parts.test, parts.oot, reference)] + [
        (seg, parts.train.segment(seg), _part(parts.test, seg), _part(parts.oot, seg),
         _part(reference, seg)) for seg in own]
    models = {}
    for n, (key, train, test, oot, ref) in enumerate(plan):
        if progress:
            progress(f"model {key}", n, len(plan))
        models[key] = fit_model(key, train, holdouts={"test": test, "oot": oot},
                                reference=ref, params=params)
    if progress:
        progress("done", len(plan), len(plan))
    rows = {"all": len(table), "bads": table.bads, "train": len(parts.train),
            "test": len(parts.test) if parts.test is not None else 0,
            "oot": len(parts.oot) if parts.oot is not None else 0}
    if table.dates is not None:
        notes.append(f"observation dates {np.min(table.dates)} .. {np.max(table.dates)}; "
                     f"out-of-time rows from the latest dates: {rows['oot']}")
    trains = {key: train for key, train, *_ in plan}
    edges = {key: metrics.band_edges(score_frame(m.scorecard, trains[key].frame))
             for key, m in models.items()}  # score bands: each model's own deciles
    if table.segments is None:
        segment_models = {ALL: POOLED}
        dev = {ALL: development(models[POOLED].scorecard, parts.train, model=POOLED,
                                edges=edges[POOLED])}
    else:
        segment_models = {seg: seg if seg in own else POOLED for seg in params.segments}
        dev = {seg: development(models[key].scorecard, parts.train.segment(seg), model=key,
                                edges=edges[key])
               for seg, key in segment_models.items()}
    return BuildReport(source=source, params=params, bad_label=table.bad_label, rows=rows,
                       models=models, segment_models=segment_models, development=dev,
                       notes=notes, libraries=libraries())


def sheets(report: dict[str, Any]) -> list[Sheet]:
    """The build report (its JSON) laid out for Excel: models, characteristics, bins."""
    models, characteristics, bins = [], [], []
    uses = report["segment_models"]
    for key, fit in report["models"].items():
        card = fit["scorecard"]
        for part, m in fit["metrics"].items():
            models.append({"model": key, "segments": ", ".join(s for s, k in uses.items()
                                                               if k == key),
                           "base_points": card["base_points"], "cutoff": card["cutoff"],
                           "rows_of": part, **m})
        for c in fit["characteristics"]:
            characteristics.append({"model": key, **{k: v for k, v in c.items()
                                                     if k != "bins"},
                                    "selected": "是 yes" if c["selected"] else ""})
            bins += [{"model": key, "feature": c["feature"], **b} for b in c["bins"]]
    model = Column("model", "模型 model")
    return [
        Sheet("Models", f"模型构建 Build — {report['source']}", [
            model, Column("segments", "适用分段 segments"),
            Column("base_points", "基础分 base points", "int"),
            Column("cutoff", "分数线 cut-off", "int"), Column("rows_of", "样本 rows of"),
            Column("rows", "行数 rows", "int"), Column("bads", "坏样本 bads", "int"),
            Column("auc", "AUC", "float"), Column("ks", "KS", "float"),
            Column("gini", "Gini", "float")], models),
        Sheet("Characteristics", "变量筛选 Characteristics and selection", [
            model, Column("feature", "变量 feature"), Column("iv", "IV", "float"),
            Column("csi", "CSI", "float"), Column("selected", "入模 selected"),
            Column("reason", "原因 reason"), Column("detail", "说明 detail"),
            Column("coefficient", "系数 coefficient", "float"),
            Column("trend", "单调性 trend")], characteristics),
        Sheet("Bins", "分箱与分值 Bins, WoE and points", [
            model, Column("feature", "变量 feature"), Column("bin", "区间 bin"),
            Column("rows", "行数 rows", "int"), Column("bads", "坏样本 bads", "int"),
            Column("bad_rate", "坏账率 bad rate", "rate"), Column("woe", "WoE", "float"),
            Column("points", "分值 points", "int")], bins),
    ]

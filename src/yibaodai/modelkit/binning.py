"""Optimal binning of one characteristic (optbinning), as scorecard bins with their WoE.

optbinning finds the cut points (numbers) or category groups that maximise information value
under constraints — here a monotonic bad rate in the direction the business expects
(``catalogue.Fact.trend``), monotonic in either direction for the catalogue's other facts, and
optbinning's ``auto`` for columns of other tables. The result is kept in the scorecard's own terms
(``NumericBin`` edges, ``CategoryBin`` values), so every later step — WoE for the regression,
points, stability counts — assigns rows to bins through the one function the workbench scores
with (``scoring.positions``).

WoE is optbinning's: ln(share of goods / share of bads) per bin, 0 for a bin without goods or
without bads. Missing values get the WoE of their own group when the development sample has at
least ``MIN_MISSING_ROWS`` of them, else 0 (neutral, optbinning's own default); a category the
development sample never showed gets 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibaodai.domain.scorecard import CategoryBin, Characteristic, NumericBin
from yibaodai.modelkit.catalogue import CATALOGUE, fact_for
from yibaodai.modelkit.scoring import bin_labels, is_missing, positions

MIN_MISSING_ROWS = 50


@dataclass(frozen=True)
class BinStats:
    label: str
    count: int
    bads: int
    woe: float

    @property
    def bad_rate(self) -> float | None:
        return self.bads / self.count if self.count else None


@dataclass(frozen=True)
class FeatureBinning:
    feature: str
    categorical: bool
    trend: str
    status: str
    splits: tuple[float, ...]
    groups: tuple[tuple[str, ...], ...]
    #: One per bin, then missing and other (unknown categories; always empty here).
    stats: tuple[BinStats, ...]
    iv: float

    def characteristic(self, points: list[int] | None = None) -> Characteristic:
        """The binning as a scorecard characteristic; ``points`` per position (bins, missing,
        other), zero when not given."""
        pts = points or [0] * len(self.stats)
        fact = fact_for(self.feature)
        common = {"feature": self.feature, "reason_code": fact.reason_code,
                  "text_zh": fact.text_zh, "text_en": fact.text_en,
                  "missing_points": pts[-2], "other_points": pts[-1]}
        if self.categorical:
            return Characteristic(**common, category_bins=tuple(
                CategoryBin(values=g, points=p) for g, p in zip(self.groups, pts, strict=False)))
        edges: list[float | None] = [None, *self.splits, None]
        return Characteristic(**common, numeric_bins=tuple(
            NumericBin(lower=edges[i], upper=edges[i + 1], points=pts[i])
            for i in range(len(self.splits) + 1)))

    def woe(self, column: pd.Series) -> np.ndarray:
        """Each row's WoE (the regression's input)."""
        table = np.array([s.woe for s in self.stats], dtype="float64")
        out: np.ndarray = table[positions(self.characteristic(), column, len(column))]
        return out


def _values(column: pd.Series, categorical: bool) -> np.ndarray:
    if categorical:
        return np.array([None if is_missing(v) else str(v) for v in column], dtype=object)
    return np.asarray(column, dtype="float64")


def _trend(feature: str) -> str:
    """The catalogue's direction; for a catalogue fact without one, monotonic either way
    (a fact of the bank's own data either moves risk one way or it does not — a zig-zag is
    noise fitted); for another table's column, optbinning's own ``auto``."""
    if feature not in CATALOGUE:
        return "auto"
    return CATALOGUE[feature].trend or "auto_asc_desc"


def _empty(feature: str, categorical: bool, target: np.ndarray) -> FeatureBinning:
    """A characteristic the table never fills: one empty bin, everything missing, no IV."""
    rows = len(target)
    stats = (BinStats("{}" if categorical else "[-inf, +inf)", 0, 0, 0.0),
             BinStats("missing", rows, int(target.sum()), 0.0), BinStats("other", 0, 0, 0.0))
    return FeatureBinning(feature, categorical, "categorical" if categorical else "none",
                          "no_data", (), ((),) if categorical else (), stats, 0.0)


def fit_binning(feature: str, column: pd.Series, target: np.ndarray, *,
                categorical: bool) -> FeatureBinning:
    """The optimal binning of ``column`` against ``target`` (1 = bad)."""
    trend = _trend(feature)
    kwargs: dict[str, object] = {"name": feature,
                                 "dtype": "categorical" if categorical else "numerical"}
    if not categorical:
        kwargs["monotonic_trend"] = trend
    values = _values(column, categorical)
    present = np.array([not is_missing(v) for v in values]) if categorical else ~np.isnan(values)
    if not present.any():
        return _empty(feature, categorical, target)
    # optbinning and OR-Tools: imported here, not at module level. The web app imports this module,
    # and the bank's start-up (``serve``, the demo) should not pay seconds for them.
    from optbinning import OptimalBinning

    optb = OptimalBinning(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # solver chatter; pandas dtype notices in the table
        optb.fit(values, target)
        table = optb.binning_table
        built = table.build()  # rows: the bins, "Special" (unused), "Missing", then totals
    splits: tuple[float, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()
    if categorical:
        groups = tuple(tuple(str(v) for v in g) for g in optb.splits)
        size = len(groups)
    else:
        splits = tuple(float(s) for s in optb.splits)
        size = len(splits) + 1
    events = built["Event"].iloc[:size + 2].to_numpy(dtype=np.int64)
    nonevents = built["Non-event"].iloc[:size + 2].to_numpy(dtype=np.int64)
    woe = built["WoE"].iloc[:size + 2].to_numpy(dtype="float64")
    skeleton = FeatureBinning(feature, categorical, "categorical" if categorical else trend,
                              str(optb.status), splits, groups, (), 0.0)
    labels = bin_labels(skeleton.characteristic([0] * (size + 2)))
    stats = [BinStats(labels[i], int(events[i] + nonevents[i]), int(events[i]), float(woe[i]))
             for i in range(size)]
    missing_count = int(events[size + 1] + nonevents[size + 1])
    missing_woe = float(woe[size + 1]) if missing_count >= MIN_MISSING_ROWS else 0.0
    stats.append(BinStats("missing", missing_count, int(events[size + 1]), missing_woe))
    stats.append(BinStats("other", 0, 0, 0.0))
    return FeatureBinning(feature, categorical, skeleton.trend, skeleton.status, splits, groups,
                          tuple(stats), float(table.iv))

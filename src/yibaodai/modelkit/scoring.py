"""Scoring a whole table with a scorecard, column by column.

The admission engine scores one institution at a time (``domain.scorecard.score``); the
workbench scores thousands of rows at once for binning, validation, stability and the
benchmark. Both read the same card with the same rules — numeric bins ``[lower, upper)``, a
category in the bin that lists it, missing (None, "", NaN, text that is not a number) and
unknown categories on their own points — and ``tests/unit/test_modelkit_scoring.py`` holds
them equal on thousands of generated rows.

A row's *position* in a characteristic is the index of its bin, then ``len(bins)`` for missing
and ``len(bins) + 1`` for a category no bin lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yibaodai.domain.scorecard import Characteristic, Scorecard


def bin_labels(ch: Characteristic) -> list[str]:
    """Labels by position: each bin's own label, then "missing" and "other"."""
    bins = ch.category_bins or ch.numeric_bins
    return [b.label() for b in bins] + ["missing", "other"]


def is_missing(value: object) -> bool:
    """Missing as the engine reads it: None, the empty string, NaN."""
    return value is None or value == "" or (isinstance(value, float) and value != value)


def positions(ch: Characteristic, column: pd.Series | None, rows: int) -> np.ndarray:
    """Each row's position in ``ch`` (a missing column: every row missing)."""
    size = len(ch.category_bins or ch.numeric_bins)
    if column is None:
        return np.full(rows, size, dtype=np.int64)
    if ch.category_bins:
        lookup = {v: i for i, b in enumerate(ch.category_bins) for v in b.values}
        return np.fromiter(
            (size if is_missing(v) else lookup.get(str(v), size + 1) for v in column),
            dtype=np.int64, count=len(column))
    numbers = np.asarray(pd.to_numeric(column, errors="coerce"), dtype="float64")
    edges = np.array([b.lower for b in ch.numeric_bins[1:]], dtype="float64")
    out: np.ndarray = np.searchsorted(edges, numbers, side="right").astype(np.int64)
    out[np.isnan(numbers)] = size
    return out


def points_by_position(ch: Characteristic) -> np.ndarray:
    bins = ch.category_bins or ch.numeric_bins
    return np.array([b.points for b in bins] + [ch.missing_points, ch.other_points],
                    dtype=np.int64)


def score_frame(card: Scorecard, frame: pd.DataFrame) -> np.ndarray:
    """Total points of every row (base points plus each characteristic's)."""
    total = np.full(len(frame), card.base_points, dtype=np.int64)
    for ch in card.characteristics:
        column = frame.get(ch.feature)
        total += points_by_position(ch)[positions(ch, column, len(frame))]
    return total


def position_counts(ch: Characteristic, column: pd.Series | None, rows: int) -> list[int]:
    """How many rows fall at each position (for stability: CSI)."""
    counts = np.bincount(positions(ch, column, rows), minlength=len(bin_labels(ch)))
    return [int(c) for c in counts]

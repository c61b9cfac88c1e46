"""Segment scorecards: feature bins -> points, pure.

A scorecard is data (stored in the model version): for each characteristic a list of bins that
cover every value exactly once, plus points for a missing value. ``score`` adds the points of the
bin each value falls into to the base points and returns every contribution, so a refusal can
name the characteristics that cost the most points, ranked.

Numeric bins are half-open ``[lower, upper)``; ``None`` is an open end. Categorical bins list
their values; a value in no bin gets ``other_points``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NumericBin(_Frozen):
    lower: float | None = None
    upper: float | None = None
    points: int

    def contains(self, value: float) -> bool:
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper)

    def label(self) -> str:
        lo = "-inf" if self.lower is None else f"{self.lower:g}"
        hi = "+inf" if self.upper is None else f"{self.upper:g}"
        return f"[{lo}, {hi})"


class CategoryBin(_Frozen):
    values: tuple[str, ...]
    points: int

    def label(self) -> str:
        return "{" + ",".join(self.values) + "}"


class Characteristic(_Frozen):
    """One scored feature. ``reason_code`` and the texts name it in a refusal."""

    feature: str
    reason_code: str
    text_zh: str
    text_en: str
    numeric_bins: tuple[NumericBin, ...] = ()
    category_bins: tuple[CategoryBin, ...] = ()
    missing_points: int = 0
    other_points: int = 0

    @model_validator(mode="after")
    def _bins_cover_each_value_once(self) -> Characteristic:
        if bool(self.numeric_bins) == bool(self.category_bins):
            raise ValueError(f"{self.feature}: give numeric_bins or category_bins, not both")
        if self.numeric_bins:
            bins = self.numeric_bins
            if bins[0].lower is not None or bins[-1].upper is not None:
                raise ValueError(f"{self.feature}: numeric bins must start at -inf and end at "
                                 "+inf")
            for left, right in itertools.pairwise(bins):
                if left.upper is None or right.lower is None or left.upper != right.lower:
                    raise ValueError(f"{self.feature}: bins must be contiguous and ordered "
                                     f"({left.label()} then {right.label()})")
                if left.lower is not None and left.lower >= left.upper:
                    raise ValueError(f"{self.feature}: empty bin {left.label()}")
        else:
            seen: set[str] = set()
            for b in self.category_bins:
                if seen & set(b.values):
                    raise ValueError(f"{self.feature}: category in two bins")
                seen |= set(b.values)
        return self

    def max_points(self) -> int:
        pts = [b.points for b in self.numeric_bins] + [b.points for b in self.category_bins]
        pts.append(self.missing_points)
        if self.category_bins:
            pts.append(self.other_points)
        return max(pts)

    def points_for(self, value: Any) -> tuple[int, str]:
        """(points, bin label) for a value; None, "" and NaN are missing."""
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            return self.missing_points, "missing"
        if self.category_bins:
            for cb in self.category_bins:
                if str(value) in cb.values:
                    return cb.points, cb.label()
            return self.other_points, "other"
        number = _number(value)
        if number is None or math.isnan(number):
            return self.missing_points, "missing"
        for nb in self.numeric_bins:
            if nb.contains(number):
                return nb.points, nb.label()
        raise AssertionError("validated bins cover every number")  # pragma: no cover


class Scorecard(_Frozen):
    base_points: int
    cutoff: int
    characteristics: tuple[Characteristic, ...]

    @model_validator(mode="after")
    def _features_unique(self) -> Scorecard:
        names = [c.feature for c in self.characteristics]
        if len(names) != len(set(names)):
            raise ValueError("a feature is scored twice")
        return self

    def max_score(self) -> int:
        return self.base_points + sum(c.max_points() for c in self.characteristics)


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: Any
    bin: str
    points: int
    shortfall: int  # max points of the characteristic minus points obtained


@dataclass(frozen=True)
class ScoreResult:
    total: int
    contributions: tuple[Contribution, ...]

    def passes(self, card: Scorecard) -> bool:
        return self.total >= card.cutoff

    def ranked_shortfalls(self) -> list[Contribution]:
        """Characteristics that cost points, largest shortfall first (ties: card order)."""
        lost = [c for c in self.contributions if c.shortfall > 0]
        return sorted(lost, key=lambda c: -c.shortfall)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def score(card: Scorecard, facts: dict[str, Any]) -> ScoreResult:
    contributions: list[Contribution] = []
    total = card.base_points
    for ch in card.characteristics:
        value = facts.get(ch.feature)
        points, label = ch.points_for(value)
        total += points
        contributions.append(Contribution(ch.feature, value, label, points,
                                          ch.max_points() - points))
    return ScoreResult(total, tuple(contributions))

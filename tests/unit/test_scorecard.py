"""Scorecards: bins cover every value once, points add up, shortfalls rank the reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from yibaodai.domain.scorecard import (
    CategoryBin,
    Characteristic,
    NumericBin,
    Scorecard,
    score,
)


def size(points: tuple[int, int, int] = (0, 10, 20)) -> Characteristic:
    return Characteristic(feature="size", reason_code="S1", text_zh="规模", text_en="size",
                          missing_points=-5, numeric_bins=(
                              NumericBin(upper=10.0, points=points[0]),
                              NumericBin(lower=10.0, upper=100.0, points=points[1]),
                              NumericBin(lower=100.0, points=points[2])))


def grade() -> Characteristic:
    return Characteristic(feature="grade", reason_code="S2", text_zh="等级", text_en="grade",
                          category_bins=(CategoryBin(values=("A",), points=15),
                                         CategoryBin(values=("B", "C"), points=5)),
                          other_points=-10)


CARD = Scorecard(base_points=50, cutoff=70, characteristics=(size(), grade()))


def test_bins_are_half_open_lower_bound_included() -> None:
    assert size().points_for(9.99) == (0, "[-inf, 10)")
    assert size().points_for(10) == (10, "[10, 100)")
    assert size().points_for("100.00") == (20, "[100, +inf)")


def test_missing_and_unknown_values_get_their_own_points() -> None:
    assert size().points_for(None) == (-5, "missing")
    assert size().points_for("n/a") == (-5, "missing")
    assert grade().points_for("Z") == (-10, "other")
    assert grade().points_for("") == (0, "missing")


def test_not_a_number_is_missing_rather_than_outside_every_bin() -> None:
    assert size().points_for(float("nan")) == (-5, "missing")
    assert size().points_for("NaN") == (-5, "missing")
    assert grade().points_for(float("nan")) == (0, "missing")


def test_score_adds_base_and_each_characteristic_and_says_how_much_each_lost() -> None:
    result = score(CARD, {"size": 50, "grade": "B"})
    assert result.total == 50 + 10 + 5
    assert not result.passes(CARD)
    # ties keep the card's order
    assert [(c.feature, c.shortfall) for c in result.ranked_shortfalls()] == [
        ("size", 10), ("grade", 10)]
    assert CARD.max_score() == 50 + 20 + 15


def test_the_largest_shortfall_is_ranked_first() -> None:
    result = score(CARD, {"size": 1, "grade": "B"})
    assert [c.feature for c in result.ranked_shortfalls()] == ["size", "grade"]
    assert score(CARD, {"size": 500, "grade": "A"}).ranked_shortfalls() == []


@pytest.mark.parametrize("bins", [
    (NumericBin(lower=0.0, upper=10.0, points=1), NumericBin(lower=10.0, points=2)),  # no -inf
    (NumericBin(upper=10.0, points=1), NumericBin(lower=10.0, upper=20.0, points=2)),  # no +inf
    (NumericBin(upper=10.0, points=1), NumericBin(lower=11.0, points=2)),  # a gap
    (NumericBin(upper=10.0, points=1), NumericBin(lower=5.0, points=2)),  # an overlap
])
def test_bins_that_miss_or_double_count_a_value_are_refused(
        bins: tuple[NumericBin, ...]) -> None:
    with pytest.raises(ValidationError):
        Characteristic(feature="x", reason_code="S", text_zh="x", text_en="x", numeric_bins=bins)


def test_a_category_in_two_bins_and_a_feature_scored_twice_are_refused() -> None:
    with pytest.raises(ValidationError):
        Characteristic(feature="g", reason_code="S", text_zh="g", text_en="g", category_bins=(
            CategoryBin(values=("A",), points=1), CategoryBin(values=("A", "B"), points=2)))
    with pytest.raises(ValidationError):
        Scorecard(base_points=0, cutoff=0, characteristics=(size(), size()))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_number_falls_in_exactly_one_bin(value: float) -> None:
    assert sum(1 for b in size().numeric_bins if b.contains(value)) == 1


def test_a_scorecard_survives_json() -> None:
    assert Scorecard.model_validate_json(CARD.model_dump_json()) == CARD

"""The workbench scores a table exactly as the engine scores each row.

Generated scorecards (numeric edges, category groups, missing and other points) and generated
facts of every kind the engine stores (None, whole numbers, floats, yuan strings, values on an
edge, text that is not a number, unknown categories, NaN): ``scoring.score_frame`` on the table
equals ``domain.scorecard.score`` row by row, and the decision's own score (``decide``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.domain.admission import INITIAL_MODEL, AdmissionInputs, decide
from yibaodai.domain.scorecard import (
    CategoryBin,
    Characteristic,
    NumericBin,
    Scorecard,
    score,
)
from yibaodai.modelkit.samples import facts_frame
from yibaodai.modelkit.scoring import bin_labels, position_counts, score_frame

points = st.integers(min_value=-60, max_value=60)
CATEGORIES = ("A", "B", "C", "D", "1", "2")


@st.composite
def numeric(draw: st.DrawFn, feature: str) -> Characteristic:
    edges = sorted(draw(st.sets(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=0,
                                max_size=6)))
    bounds: list[float | None] = [None, *edges, None]
    return Characteristic(
        feature=feature, reason_code="S99", text_zh="测", text_en="t",
        numeric_bins=tuple(NumericBin(lower=bounds[i], upper=bounds[i + 1], points=draw(points))
                           for i in range(len(edges) + 1)),
        missing_points=draw(points))


@st.composite
def categorical(draw: st.DrawFn, feature: str) -> Characteristic:
    chosen = draw(st.lists(st.sampled_from(CATEGORIES), unique=True, min_size=1, max_size=5))
    cut = draw(st.integers(1, len(chosen)))
    groups = [tuple(chosen[:cut]), tuple(chosen[cut:])]
    return Characteristic(
        feature=feature, reason_code="S99", text_zh="测", text_en="t",
        category_bins=tuple(CategoryBin(values=g, points=draw(points)) for g in groups if g),
        missing_points=draw(points), other_points=draw(points))


@st.composite
def cards(draw: st.DrawFn) -> Scorecard:
    chars = [draw(numeric(f"x{i}")) for i in range(draw(st.integers(1, 4)))]
    chars.append(draw(categorical("grade")))
    return Scorecard(base_points=draw(points), cutoff=0, characteristics=tuple(chars))


def values_for(card: Scorecard) -> st.SearchStrategy[Any]:
    edges = [b.lower for c in card.characteristics for b in c.numeric_bins if b.lower is not None]
    on_edge = st.sampled_from(edges) if edges else st.just(0.0)
    return st.one_of(
        st.none(), st.just(""), st.just(float("nan")), st.just("n/a"),
        st.integers(-2_000_000, 2_000_000), st.floats(-2e6, 2e6, allow_nan=False),
        on_edge, on_edge.map(lambda v: f"{v:.2f}"), on_edge.map(repr),
        st.decimals(-2e6, 2e6, places=2, allow_nan=False).map(str),
        st.sampled_from((*CATEGORIES, "Z", "未知")))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_table_scoring_equals_the_engine_row_by_row(data: st.DataObject) -> None:
    card = data.draw(cards())
    features = [c.feature for c in card.characteristics]
    rows = data.draw(st.lists(st.fixed_dictionaries({f: values_for(card) for f in features}),
                              min_size=20, max_size=40))
    frame = pd.DataFrame(rows, dtype=object)
    engine = [score(card, row).total for row in rows]
    assert score_frame(card, frame).tolist() == engine


def test_a_column_absent_from_the_table_is_missing_for_every_row() -> None:
    card = INITIAL_MODEL.scorecards["pharmacy"]
    frame = pd.DataFrame({"cv_12m": [0.1, None]})
    assert score_frame(card, frame).tolist() == [score(card, {"cv_12m": 0.1}).total,
                                                 score(card, {}).total]


def _inputs(n: int) -> list[AdmissionInputs]:
    """Engine-shaped inputs: yuan strings, floats, None, counts, grades."""
    out = []
    for k in range(n):
        out.append(AdmissionInputs(
            fixmedins_code=f"P{k:011d}", segment="pharmacy", ownership="private", biz_stas="1",
            cred_lv_name="ABCDX"[k % 5], penalties_24m=k % 2,
            features={"avg_monthly_fund_pay_12m": f"{(k * 977) % 300_000}.{k % 100:02d}",
                      "avg_monthly_fund_pay_6m": "50000.00",
                      "cv_12m": None if k % 7 == 0 else (k % 60) / 100,
                      "growth_3m_over_prior_3m": None if k % 11 == 0 else (k % 41 - 20) / 100,
                      "months_of_history": 12 + k % 14, "zero_months_12m": k % 3,
                      "refund_ratio": None if k % 13 == 0 else (k % 9) / 100},
            months_designated=24, designation_days_left=500))
    return out


def test_over_a_thousand_engine_rows_the_decision_score_equals_the_table_score() -> None:
    inputs = _inputs(1500)
    frame = facts_frame(inputs)
    card = INITIAL_MODEL.scorecards["pharmacy"]
    decided = [decide(i, INITIAL_MODEL).score for i in inputs]
    assert score_frame(card, frame).tolist() == decided
    assert len(set(decided)) > 20  # the rows really spread over the card


def test_position_counts_add_up_to_the_rows_and_name_missing_and_other() -> None:
    ch = INITIAL_MODEL.scorecards["pharmacy"].characteristics[5]  # cred_lv_name
    column = pd.Series(["A", "B", None, "Z", "A"], dtype=object)
    counts = position_counts(ch, column, len(column))
    labels = bin_labels(ch)
    assert dict(zip(labels, counts, strict=True)) == {"{A}": 2, "{B}": 1, "missing": 1,
                                                      "other": 1}
    assert not math.isnan(sum(counts))

"""The initial model's data, pinned: the values below are copied from docs/admission.md (the
documented rule), not read from ``INITIAL_MODEL``, so any edit of the model's numbers must
change the documentation and this test together."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from yibaodai.domain.admission import INITIAL_MODEL, RULE_VERSION
from yibaodai.domain.scorecard import (
    CategoryBin,
    Characteristic,
    NumericBin,
    Scorecard,
    score,
)

SEGMENTS = ("pharmacy", "clinic", "hospital")
#: 12-month average monthly fund payment edges per segment (docs: S11 row).
SIZE_EDGES = {"pharmacy": (20_000, 50_000, 150_000), "clinic": (30_000, 80_000, 250_000),
              "hospital": (50_000, 150_000, 500_000)}


def points(segment: str, feature: str, value: Any) -> int:
    card = INITIAL_MODEL.scorecards[segment]
    (ch,) = [c for c in card.characteristics if c.feature == feature]
    return ch.points_for(value)[0]


def test_the_policy_is_the_documented_one() -> None:
    p = INITIAL_MODEL.policy
    assert RULE_VERSION == "whitelist-rule-2026.11-r1"
    assert p.served_segments == ("pharmacy", "clinic", "hospital")
    assert p.refused_ownership == ("public",)
    assert p.normal_biz_stas == ("1",)
    assert p.min_months_of_history == 12
    assert p.penalty_window_months == 24
    assert p.refused_credit_grades == ("C", "D")
    assert p.min_avg_monthly_fund_pay == Decimal("10000")
    assert p.max_decline_3m == -0.30
    assert p.min_designation_days_left == 90
    assert p.min_months_designated == 12


def test_the_limit_rule_is_the_documented_one() -> None:
    r = INITIAL_MODEL.limit
    assert r.basis_feature == "avg_monthly_fund_pay_12m"
    assert r.multiple == 3
    assert (r.unstable_cv, r.unstable_factor) == (0.5, Decimal("0.8"))
    assert (r.declining_growth, r.declining_factor) == (-0.10, Decimal("0.8"))
    assert r.segment_caps == {"pharmacy": 1_000_000, "clinic": 2_000_000,
                              "hospital": 3_000_000}
    assert r.policy_cap == 3_000_000
    assert r.unit == 10_000


@pytest.mark.parametrize("segment", SEGMENTS)
def test_every_segment_card_has_cut_off_70_of_160(segment: str) -> None:
    card = INITIAL_MODEL.scorecards[segment]
    assert (card.base_points, card.cutoff, card.max_score()) == (0, 70, 160)
    assert [(c.feature, c.reason_code) for c in card.characteristics] == [
        ("avg_monthly_fund_pay_12m", "S11"), ("cv_12m", "S12"),
        ("growth_3m_over_prior_3m", "S13"), ("months_of_history", "S14"),
        ("zero_months_12m", "S15"), ("cred_lv_name", "S16"), ("refund_ratio", "S17")]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_size_points_step_at_the_segments_edges(segment: str) -> None:
    a, b, c = SIZE_EDGES[segment]
    got = [points(segment, "avg_monthly_fund_pay_12m", v)
           for v in (0, a - 0.01, a, b - 0.01, b, c - 0.01, c, 10**9)]
    assert got == [10, 10, 20, 20, 30, 30, 40, 40]
    assert points(segment, "avg_monthly_fund_pay_12m", None) == 0


#: (feature, [(value, points)]) — the rows of the documented card shared by all segments.
SHARED_ROWS: list[tuple[str, list[tuple[Any, int]]]] = [
    ("cv_12m", [(0.0, 30), (0.1999, 30), (0.2, 22), (0.3499, 22), (0.35, 14), (0.4999, 14),
                (0.5, 6), (3.0, 6), (None, 6)]),
    ("growth_3m_over_prior_3m", [(-0.5, 5), (-0.1001, 5), (-0.1, 15), (-0.0001, 15),
                                 (0.0, 22), (0.0999, 22), (0.1, 25), (2.0, 25), (None, 10)]),
    ("months_of_history", [(12, 5), (17, 5), (18, 12), (23, 12), (24, 20), (120, 20)]),
    ("zero_months_12m", [(0, 15), (1, 8), (2, 0), (12, 0), (None, 10)]),
    ("cred_lv_name", [("A", 20), ("B", 12), ("C", 0), ("X", 0), (None, 0)]),
    ("refund_ratio", [(0.0, 10), (0.0199, 10), (0.02, 6), (0.0499, 6), (0.05, 0), (0.5, 0),
                      (None, 5)]),
]


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize(("feature", "expected"), SHARED_ROWS,
                         ids=[f for f, _ in SHARED_ROWS])
def test_shared_characteristics_score_as_documented(segment: str, feature: str,
                                                    expected: list[tuple[Any, int]]) -> None:
    assert [(v, points(segment, feature, v)) for v, _ in expected] == expected


# --- the cut-off, on a card built for the purpose ----------------------------------------


def one_feature_card(cutoff: int) -> Scorecard:
    return Scorecard(base_points=50, cutoff=cutoff, characteristics=(
        Characteristic(feature="x", reason_code="S99", text_zh="测试", text_en="test",
                       numeric_bins=(NumericBin(upper=1, points=19),
                                     NumericBin(lower=1, upper=2, points=20),
                                     NumericBin(lower=2, points=21))),
        Characteristic(feature="grade", reason_code="S98", text_zh="等级", text_en="grade",
                       category_bins=(CategoryBin(values=("A",), points=3),),
                       missing_points=1, other_points=2),
    ))


@pytest.mark.parametrize(("x", "passes"), [(0.5, False), (1.5, True), (2.5, True)])
def test_a_score_exactly_on_the_cut_off_passes_and_one_point_below_fails(
        x: float, passes: bool) -> None:
    card = one_feature_card(cutoff=71)  # 50 + 19/20/21 + 1 (grade missing) = 70/71/72
    result = score(card, {"x": x})
    assert result.total == {0.5: 70, 1.5: 71, 2.5: 72}[x]
    assert result.passes(card) is passes


def test_category_points_for_a_listed_an_unlisted_and_a_missing_value() -> None:
    card = one_feature_card(cutoff=0)
    assert [score(card, {"x": 1, "grade": g}).total for g in ("A", "Z", None, "")] == \
        [73, 72, 71, 71]
    assert card.characteristics[1].max_points() == 3
    assert card.max_score() == 50 + 21 + 3

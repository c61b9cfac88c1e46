"""Discrimination, calibration, cut-offs and PSI, checked against values worked by hand or by
an independent route."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_curve

from yibaodai.modelkit import metrics
from yibaodai.modelkit.regression import Scaling


def test_psi_of_a_population_against_itself_is_zero_and_stable() -> None:
    result = metrics.stability([100, 200, 300], [100, 200, 300], ["a", "b", "c"])
    assert result["value"] == 0 and result["status"] == "stable"


def test_psi_matches_the_formula_worked_by_hand() -> None:
    expected, actual = [500, 500], [300, 700]
    pe = [(500 + 0.5) / 1001] * 2
    pa = [(300 + 0.5) / 1001, (700 + 0.5) / 1001]
    by_hand = sum((a - e) * math.log(a / e) for a, e in zip(pa, pe, strict=True))
    result = metrics.stability(expected, actual, ["low", "high"])
    assert result["value"] == by_hand
    assert 0.10 <= by_hand < 0.25 and result["status"] == "watch"
    assert [b["bin"] for b in result["bins"]] == ["low", "high"]


def test_an_empty_bin_does_not_make_psi_infinite_and_a_large_shift_is_flagged() -> None:
    result = metrics.stability([1000, 0], [0, 1000], ["a", "b"])
    assert math.isfinite(result["value"]) and result["status"] == "shift"


@given(st.lists(st.integers(0, 500), min_size=2, max_size=12),
       st.lists(st.integers(0, 500), min_size=2, max_size=12))
def test_psi_is_never_negative(a: list[int], b: list[int]) -> None:
    n = min(len(a), len(b))
    result = metrics.stability(a[:n], b[:n], [str(i) for i in range(n)])
    assert result["value"] is None or result["value"] >= 0


def test_small_populations_carry_a_noise_floor_and_a_caution() -> None:
    few = metrics.stability([1000] * 10, [5] * 10, [str(i) for i in range(10)])
    many = metrics.stability([1000] * 10, [500] * 10, [str(i) for i in range(10)])
    assert few["noise_floor"] == 9 * (1 / 10_000 + 1 / 50) and few["caution"]
    assert many["noise_floor"] < metrics.CAUTION_NOISE and not many["caution"]
    assert metrics.stability([10], [0], ["a"])["status"] == "no_data"


def test_sampling_alone_gives_a_psi_near_the_noise_floor() -> None:
    """The documented caution is not a guess: with no change at all, PSI averages about the
    floor (100 draws of 50 rows over 10 equal bins against 5,000)."""
    rng = np.random.default_rng(7)
    values = []
    for _ in range(100):
        actual = np.bincount(rng.integers(0, 10, 50), minlength=10)
        values.append(metrics.stability([500] * 10, actual.tolist(),
                                        [str(i) for i in range(10)])["value"])
    floor = 9 * (1 / 5000 + 1 / 50)
    assert 0.5 * floor < float(np.mean(values)) < 1.5 * floor


def test_ks_is_the_largest_gap_between_the_roc_rates_and_gini_is_two_auc_minus_one() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.3).astype(int)
    score = np.round(rng.normal(600 - 40 * y, 30)).astype(int)
    result = metrics.discrimination(y, score)
    fpr, tpr, _ = roc_curve(y, -score)
    assert math.isclose(result["ks"], float(np.max(tpr - fpr)))
    assert math.isclose(result["gini"], 2 * result["auc"] - 1)
    assert result["auc"] > 0.7
    assert metrics.discrimination(np.zeros(5, dtype=int), np.arange(5))["auc"] is None


def test_cutoffs_trade_approvals_for_bad_rate() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    score = np.array([400, 450, 500, 520, 600, 650, 700, 720])
    rows = metrics.cutoff_table(y, score, [450, 500, 600])
    assert [r["approved"] for r in rows] == [7, 6, 4]
    assert rows[2]["bad_rate_approved"] == 0 and rows[2]["bad_rate_refused"] == 0.75
    assert rows[0]["bad_rate_approved"] == 2 / 7


def test_score_bands_are_deciles_and_every_score_falls_in_one() -> None:
    scores = np.arange(1000)
    edges = metrics.band_edges(scores)
    counts = metrics.band_counts(edges, scores)
    assert len(counts) == 10 and sum(counts) == 1000 and max(counts) - min(counts) <= 2
    assert metrics.band_labels([500])[0] == "[-inf, 500)"


def test_calibration_compares_the_bad_rate_with_what_the_points_promise() -> None:
    scaling = Scaling(pdo=20, base_score=600, base_odds=50)
    assert math.isclose(float(scaling.bad_probability(np.array([600]))[0]), 1 / 51)
    assert math.isclose(float(scaling.bad_probability(np.array([620]))[0]), 1 / 101)
    rng = np.random.default_rng(2)
    score = rng.integers(520, 680, 20_000)
    y = (rng.random(score.size) < scaling.bad_probability(score)).astype(int)
    rows = metrics.calibration(y, score, metrics.band_edges(score), scaling)
    assert all(r["binomial_p_value"] > 0.001 for r in rows)  # calibrated by construction
    skewed = metrics.calibration(np.ones_like(y), score, metrics.band_edges(score), scaling)
    assert all(r["binomial_p_value"] < 1e-6 for r in skewed)

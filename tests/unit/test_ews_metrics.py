"""TCPD scoring (F1 with margin, segmentation covering) and the change-point detector."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.ews.changepoint import change_points, fill_missing
from yibaodai.domain.ews.metrics import covering, f1_score, segments, true_positives

N = 120
points = st.lists(st.integers(min_value=1, max_value=N - 1), max_size=8, unique=True)
annotators = st.lists(points, min_size=1, max_size=5)


@given(annotators, points)
def test_scores_lie_in_the_unit_interval(truth: list[list[int]], predicted: list[int]) -> None:
    assert 0.0 <= f1_score(truth, predicted) <= 1.0
    assert 0.0 < covering(truth, predicted, N) <= 1.0


@given(points)
def test_predicting_what_a_single_annotator_marked_is_perfect(marked: list[int]) -> None:
    assert f1_score([marked], marked) == 1.0
    assert covering([marked], marked, N) == 1.0


@given(points, st.integers(min_value=1, max_value=N - 1))
def test_a_prediction_far_from_every_true_point_lowers_f1(marked: list[int], extra: int) -> None:
    if any(abs(extra - m) <= 5 for m in marked) or extra <= 5:
        return
    assert f1_score([marked], [*marked, extra]) < 1.0


@given(points, points)
def test_each_predicted_point_matches_at_most_one_true_point(truth: list[int],
                                                             predicted: list[int]) -> None:
    assert len(true_positives(truth, predicted)) <= len(set(predicted))
    assert true_positives(truth, predicted) <= set(truth)


@given(points)
def test_segments_partition_the_series(cuts: list[int]) -> None:
    parts = segments(cuts, N)
    assert [i for r in parts for i in r] == list(range(N))
    assert len(parts) == len(set(cuts)) + 1


def test_metrics_match_hand_worked_values() -> None:
    # truth {0, 50}, prediction {0, 53}: both match within 5 -> F1 1; covering
    # = (50 * 50/53 + 50 * 47/50) / 100
    assert f1_score([[50]], [53]) == 1.0
    assert abs(covering([[50]], [53], 100) - (50 * 50 / 53 + 47) / 100) < 1e-12
    # nothing predicted against {0, 50}: precision 1/1, recall 1/2 -> F1 2/3
    assert abs(f1_score([[50]], []) - 2 / 3) < 1e-12


def test_a_clear_step_is_found_within_the_margin_and_noise_alone_is_not() -> None:
    rng = random.Random(11)
    noise = [rng.gauss(0, 1) for _ in range(200)]
    assert change_points(noise) == []
    (found,) = change_points([v + (4 if i >= 120 else 0) for i, v in enumerate(noise)])
    assert abs(found - 120) <= 5


def test_autocorrelated_noise_is_not_cut_into_pieces() -> None:
    """The long-run variance is what keeps a persistent (AR(1), phi 0.7) series whole; an
    independent-noise scale would cut it many times."""
    for seed in range(10):
        rng = random.Random(seed)
        series, level = [], 0.0
        for _ in range(300):
            level = 0.7 * level + rng.gauss(0, 1)
            series.append(level)
        assert change_points(series) == []


def test_gaps_carry_the_last_value_and_constant_series_have_no_change() -> None:
    assert fill_missing([None, 2.0, None, 5.0]) == [2.0, 2.0, 2.0, 5.0]
    assert change_points([7.0] * 40) == []

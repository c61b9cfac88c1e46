"""The outbox's waits between attempts: exponential, jittered, bounded, the same for the same
row on every worker."""

from __future__ import annotations

import statistics
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.worker.dispatcher import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    backoff,
    backoff_ceiling,
)

KEYS = st.text(min_size=1, max_size=80)


@given(attempts=st.integers(min_value=1, max_value=10_000), key=KEYS)
def test_every_wait_lies_between_the_base_and_its_ceiling_which_never_passes_the_cap(
        attempts: int, key: str) -> None:
    wait = backoff(attempts, key=key)
    assert BACKOFF_BASE <= wait <= backoff_ceiling(attempts) <= BACKOFF_CAP


@given(attempts=st.integers(min_value=1, max_value=50), key=KEYS)
def test_the_same_row_waits_the_same_on_every_worker(attempts: int, key: str) -> None:
    assert backoff(attempts, key=key) == backoff(attempts, key=key)


def test_ceilings_double_from_ten_seconds_to_the_hour() -> None:
    ceilings = [backoff_ceiling(a).total_seconds() for a in range(1, 12)]
    assert ceilings == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]


def test_rows_that_failed_together_come_back_spread_out() -> None:
    waits = [backoff(6, key=f"admission-{n}").total_seconds() for n in range(1000)]
    assert len(set(waits)) > 990  # not the same second for everyone
    # full jitter: uniform over [5 s, 320 s], so the mean is near the middle
    assert 150 < statistics.mean(waits) < 175


def test_a_message_is_tried_for_hours_before_it_is_a_dead_letter() -> None:
    """The retry window a dead letter has had (the figure in the dispatcher's docstring):
    at most the sum of the ceilings, on average about half of it."""
    most = sum((backoff_ceiling(a) for a in range(1, MAX_ATTEMPTS)), timedelta())
    windows = [sum((backoff(a, key=f"k{n}") for a in range(1, MAX_ATTEMPTS)), timedelta())
               for n in range(2000)]
    mean_hours = statistics.mean(w.total_seconds() for w in windows) / 3600
    assert round(most.total_seconds() / 3600, 1) == 7.4
    assert 3.4 < mean_hours < 4.0
    assert min(windows) > timedelta(minutes=30)

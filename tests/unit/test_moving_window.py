"""The quarantine's per-source window counts on the times it is given (the injected clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.gateway.quarantine import MovingWindow, QuarantineBound

START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def test_the_window_opens_again_only_when_the_clock_moves_past_it() -> None:
    clock = SimulatedClock(START)
    w = MovingWindow(3, timedelta(minutes=1))
    assert [w.hit("a", clock.now()) for _ in range(4)] == [True, True, True, False]
    assert w.hit("b", clock.now())  # each source its own count
    clock.advance(timedelta(seconds=59))
    assert not w.hit("a", clock.now())
    clock.advance(timedelta(seconds=1))  # the first three hits leave the window together
    assert [w.hit("a", clock.now()) for _ in range(4)] == [True, True, True, False]


def test_it_is_a_moving_window_not_a_fixed_one() -> None:
    w = MovingWindow(2, timedelta(minutes=1))
    assert w.hit("a", START) and w.hit("a", START + timedelta(seconds=40))
    assert not w.hit("a", START + timedelta(seconds=50))
    assert w.hit("a", START + timedelta(seconds=61))  # only the first hit has left
    assert not w.hit("a", START + timedelta(seconds=90))


def test_remembered_sources_are_bounded() -> None:
    w = MovingWindow(1, timedelta(minutes=1), max_keys=3)
    for i in range(3):
        assert w.hit(f"s{i}", START + timedelta(seconds=i))
    assert w.hit("s3", START + timedelta(seconds=3))  # s0, the least recent, forgotten
    assert len(w._hits) == 3 and "s0" not in w._hits
    assert w.hit("s4", START + timedelta(minutes=5))  # all others expired: forgotten
    assert list(w._hits) == ["s4"]


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        MovingWindow(0, timedelta(minutes=1))
    with pytest.raises(ValueError):
        MovingWindow(1, timedelta(0))


def test_the_bound_uses_the_refusals_time_for_its_rate() -> None:
    bound = QuarantineBound(rate="2/minute")

    def row(at: datetime) -> object:
        return bound.row(body=b"junk", msgid=None, reason={}, code="bad_json", now=at,
                         authenticated=False, source="10.0.0.9")

    assert row(START) is not None and row(START) is not None
    assert row(START + timedelta(seconds=30)) is None
    assert row(START + timedelta(minutes=1)) is not None

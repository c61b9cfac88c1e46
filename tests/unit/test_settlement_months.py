"""The monthly roll-up's arithmetic (``gateway.months.month_deltas``): after any sequence of
8301 messages — new days, resent days, in any order — the months kept by adding each
message's deltas are exactly the months summed from the daily facts that remain."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.gateway.months import FIGURES, MonthDelta, month_deltas

CODES = ("H21020200001", "H21020200002")
FIRST = date(2025, 11, 20)

Key = tuple[str, date, str]
rows = st.lists(st.tuples(
    st.sampled_from(CODES), st.integers(0, 75).map(lambda n: FIRST + timedelta(days=n)),
    st.sampled_from(("310", "390")),
    st.tuples(*[st.integers(0, 10**9)] * len(FIGURES))), min_size=1, max_size=40)


def _message(drawn: list[tuple[str, date, str, tuple[int, ...]]]) -> dict[Key, tuple[int, ...]]:
    return {(code, day, insutype): figures for code, day, insutype, figures in drawn}


def _columns(facts: dict[Key, tuple[int, ...]]) -> tuple[list[str], list[date], list[Any]]:
    keys = list(facts)
    return ([k[0] for k in keys], [k[1] for k in keys],
            [[facts[k][i] for k in keys] for i in range(len(FIGURES))])


def _summed(facts: dict[Key, tuple[int, ...]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for (code, day, _i), figures in facts.items():
        month = out.setdefault((code, f"{day:%Y-%m}"), [*[0] * len(FIGURES), date.min])
        for k, v in enumerate(figures):
            month[k] += v
        month[-1] = max(month[-1], day)
    return {k: tuple(v) for k, v in out.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, min_size=1, max_size=6))
def test_months_kept_by_deltas_are_the_months_of_the_facts(messages: list[Any]) -> None:
    facts: dict[Key, tuple[int, ...]] = {}
    months: dict[tuple[str, str], list[Any]] = {}
    for drawn in messages:
        message = _message(drawn)
        replaced = {k: facts[k] for k in message if k in facts}
        deltas: dict[tuple[str, str], MonthDelta] = month_deltas(*_columns(message))
        if replaced:
            month_deltas(*_columns(replaced), sign=-1, into=deltas)
        for key, d in deltas.items():  # what the upsert does
            kept = months.setdefault(key, [*[0] * len(FIGURES), date.min])
            for k, v in enumerate(d.figures):
                kept[k] += v
            kept[-1] = max(kept[-1], d.last_day)
        facts.update(message)
    assert {k: tuple(v) for k, v in months.items()} == _summed(facts)


def test_rows_out_of_order_still_sum_by_month() -> None:
    """Runs of one month are summed by slices; a month met again later adds to the same
    month, and the last day is the latest of all its rows."""
    days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 1, 2), date(2026, 2, 3)]
    got = month_deltas(["H1"] * 4, days, [[1, 2, 3, 4]] * len(FIGURES))
    assert {k: (d.figures[0], d.last_day) for k, d in got.items()} == {
        ("H1", "2026-01"): (4, date(2026, 1, 31)), ("H1", "2026-02"): (6, date(2026, 2, 3))}

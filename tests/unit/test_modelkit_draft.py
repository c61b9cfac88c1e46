"""The development sample a department manager uploads: whatever the bytes, reading them gives
observations or a field-level refusal on ``sample`` — never another exception (a 500)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.errors import ValidationFailed
from yibaodai.modelkit.draft import read_sample
from yibaodai.modelkit.samples import PROFILE, observation_table

HEADER = ",".join(["observed_on", "bad", *PROFILE, "avg_monthly_fund_pay_12m"])
cells = st.one_of(st.text(max_size=8), st.integers(-5, 5).map(str), st.just(""),
                  st.just("2026-01-01"), st.sampled_from(["pharmacy", "1", "A", "0.5", "nan"]))


def _refused_or_read(data: bytes) -> None:
    try:
        rows = read_sample(data)
    except ValidationFailed as exc:
        assert exc.fields and exc.code == "invalid_sample"
    else:
        assert isinstance(rows, list)
        try:  # what the build reads next: a table, or a refusal of it
            observation_table(rows, policy=None)
        except ValidationFailed as exc:
            assert exc.fields


@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_field_by_field(data: bytes) -> None:
    _refused_or_read(data)


@given(st.lists(st.lists(cells, min_size=0, max_size=len(PROFILE) + 4), max_size=5))
def test_rows_under_the_right_header_are_read_or_refused_by_line(rows: list[list[str]]) -> None:
    body = "\n".join([HEADER, *(",".join(r) for r in rows)])
    _refused_or_read(body.encode())


@given(st.lists(st.tuples(st.sampled_from(["0", "1", ""]),
                          st.lists(cells, min_size=len(PROFILE) - 2, max_size=len(PROFILE) + 3)),
                min_size=1, max_size=6))
def test_dated_labelled_rows_with_odd_cells_are_read_or_refused(
        rows: list[tuple[str, list[str]]]) -> None:
    body = "\n".join([HEADER, *(",".join(["2026-01-01", bad, *rest]) for bad, rest in rows)])
    _refused_or_read(body.encode())

"""Labelled tables: which label is bad, what is refused and how, and how rows are split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.modelkit import synthetic_observations
from yibaodai.errors import ValidationFailed
from yibaodai.modelkit.samples import observation_table, read_csv, write_csv
from yibaodai.modelkit.table import LabelledTable, decode_target, from_frame, split
from yibaodai.modelkit.table import read_csv as read_table

labels = st.text(alphabet="abcdefgxyz0123456789", min_size=1, max_size=6)


@given(a=labels, b=labels, picks=st.lists(st.booleans(), min_size=2, max_size=60))
def test_the_bad_label_is_bad_else_1_else_the_second_of_the_two_sorted(
        a: str, b: str, picks: list[bool]) -> None:
    if a == b:
        return
    values = [a if p else b for p in picks] + [a, b]
    y, labelled, bad = decode_target(pd.Series(values), column="y")
    two = sorted({a, b})
    expected = "bad" if "bad" in two else "1" if "1" in two else two[1]
    assert bad == expected
    assert labelled.all()
    assert y.tolist() == [int(v == expected) for v in values]


def test_zero_one_numbers_mark_one_as_bad_and_empty_outcomes_are_left_out() -> None:
    y, labelled, bad = decode_target(pd.Series([0.0, 1.0, None, 1.0]), column="y")
    assert bad == "1" and labelled.tolist() == [True, True, False, True]
    assert y.tolist() == [0, 1, 1]
    y, _, bad = decode_target(pd.Series(["good", "BAD", "good"]), column="y")
    assert bad == "BAD" and y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("values", [["a"] * 5, ["a", "b", "c"]])
def test_an_outcome_column_without_exactly_two_labels_is_refused_by_field(
        values: list[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_target(pd.Series(values), column="outcome")
    assert refused.value.fields[0].field == "outcome"
    assert refused.value.fields[0].message_zh and refused.value.fields[0].message_en


def test_a_missing_column_an_unreadable_file_and_too_few_bads_are_refused(
        tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(40), "y": [0] * 35 + [1] * 5})
    with pytest.raises(ValidationFailed) as no_column:
        from_frame(frame, target="target")
    assert no_column.value.fields[0].field == "target"
    with pytest.raises(ValidationFailed) as few:
        from_frame(frame, target="y")
    assert "5 bad" in few.value.message_en
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValidationFailed) as unreadable:
        read_table(broken, target="y")
    assert unreadable.value.fields[0].field == "csv"


def test_text_columns_stay_categorical_and_identifier_like_text_is_not_a_candidate() -> None:
    n = 200
    frame = pd.DataFrame({"grade": ["A", "B"] * (n // 2), "amount": np.arange(n) * 1.5,
                          "id": [f"row-{i}" for i in range(n)], "y": [0, 1, 0, 0] * (n // 4)})
    table = from_frame(frame, target="y")
    assert list(table.frame.columns) == ["grade", "amount"]
    assert table.categorical == ("grade",)


def test_a_stratified_split_keeps_the_bad_rate_and_a_group_split_keeps_groups_apart() -> None:
    table = observation_table(synthetic_observations(1200), policy=None)
    parts = split(table, test_share=0.3, oot_share=0.0, seed=3)
    assert parts.test is not None and parts.oot is None
    assert table.groups is not None and parts.train.groups is not None
    assert not set(parts.train.groups) & set(parts.test.groups)
    rate = table.bads / len(table)
    assert abs(parts.test.bads / len(parts.test) - rate) < 0.05
    ungrouped = LabelledTable(table.frame, table.segments, table.target, table.bad_label)
    plain = split(ungrouped, test_share=0.3, seed=3)
    assert plain.test is not None and len(plain.test) == round(0.3 * len(table))


def test_the_out_of_time_part_is_the_latest_dates_and_never_more_than_half() -> None:
    table = observation_table(synthetic_observations(1200), policy=None)
    parts = split(table, oot_share=0.2)
    assert parts.oot is not None and parts.oot.dates is not None
    assert parts.train.dates is not None
    assert parts.oot.dates.min() > parts.train.dates.max()
    assert len(parts.oot) <= len(table) / 2
    one_date = split(table.rows(np.flatnonzero(table.dates == table.dates[0])), oot_share=0.2)
    assert one_date.oot is None


def test_observations_written_to_csv_read_back_as_the_same_inputs(tmp_path: Path) -> None:
    rows = synthetic_observations(50)
    path = tmp_path / "sample.csv"
    write_csv(path, rows)
    back = read_csv(path)
    assert [(o.observed_on, o.bad) for o in back] == [(o.observed_on, o.bad) for o in rows]
    assert [o.inputs for o in back] == [o.inputs for o in rows]


def test_a_sample_file_without_its_columns_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        read_csv(path)
    assert {f.field for f in refused.value.fields} >= {"bad", "observed_on", "segment"}

"""``to_jsonable``: what a message's ``input`` becomes before it is serialised — the fast
paths for flat rows of strings and ints give what the general path gives, and every refusal
still applies wherever the value sits."""

from __future__ import annotations

import enum
from collections import OrderedDict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from yibaodai.protocol.envelope import to_jsonable


class Grade(enum.IntEnum):
    A = 1


class Code(str):
    pass


def test_rows_of_strings_and_ints_are_copied_not_shared() -> None:
    rows = {"data": [{"fixmedins_code": "P21021100113", "setl_cnt": 12, "evt_amt": None}]}
    out = to_jsonable(rows)
    assert out == rows
    assert out is not rows and out["data"] is not rows["data"]
    assert out["data"][0] is not rows["data"][0]


def test_other_values_take_the_general_path() -> None:
    value: dict[str, Any] = {
        "amount": Decimal("1234.50"), "tiny": Decimal("1E-2"), "pair": ("a", 1),
        "flag": True, "ratio": 0.5, "grade": Grade.A, "code": Code("X1"),
        "nested": OrderedDict(inner=[Decimal("0.10"), (True, None)])}
    assert to_jsonable(value) == {
        "amount": "1234.50", "tiny": "0.01", "pair": ["a", 1], "flag": True, "ratio": 0.5,
        "grade": 1, "code": "X1", "nested": {"inner": ["0.10", [True, None]]}}
    assert to_jsonable([Decimal("2.00")]) == ["2.00"]
    assert to_jsonable("plain") == "plain" and to_jsonable(7) == 7 and to_jsonable(None) is None


@pytest.mark.parametrize("bad", [
    {1: "x"}, {"data": [{2: "x"}]}, OrderedDict([(3, "x")]), {"rows": ({4: "x"},)}])
def test_non_string_keys_are_refused_anywhere(bad: Any) -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        to_jsonable(bad)


@pytest.mark.parametrize("bad", [
    {"data": [{"day": date(2026, 9, 1)}]}, [object()], {"s": {1, 2}}, b"bytes"])
def test_unsupported_types_are_refused_anywhere(bad: Any) -> None:
    with pytest.raises(TypeError, match="cannot send"):
        to_jsonable(bad)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused_in_rows(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        to_jsonable({"data": [{"amount": bad}]})

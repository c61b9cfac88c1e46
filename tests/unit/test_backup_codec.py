"""The backup row codec: every column of the schema has one, and values survive the trip
through JSON text exactly (property tests)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
)

from yibaodai.clock import SHANGHAI
from yibaodai.db.types import AwareDateTime, Money
from yibaodai.ops.backup import tables
from yibaodai.ops.codec import TableCodec

SAMPLE = Table("sample", MetaData(), Column("id", Integer, primary_key=True),
               Column("amount_fen", Money()), Column("at", AwareDateTime()),
               Column("day", Date), Column("body", LargeBinary), Column("doc", JSON),
               Column("ok", Boolean), Column("ratio", Float), Column("name", String(20)))
CODEC = TableCodec.of(SAMPLE)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                       timezones=st.sampled_from([UTC, SHANGHAI,
                                                  timezone(timedelta(hours=-5))]))


def _through_text(values: list[Any]) -> list[Any]:
    return json.loads(json.dumps(CODEC.encode(values), ensure_ascii=False))  # type: ignore[no-any-return]


def test_every_column_of_the_schema_has_a_codec() -> None:
    assert {t.name: len(TableCodec.of(t).columns) for t in tables()} == {
        t.name: len(t.columns) for t in tables()}


def test_a_column_of_an_unknown_type_is_refused_when_the_codec_is_built() -> None:
    odd = Table("odd", MetaData(), Column("x", Numeric(10, 3)))
    with pytest.raises(TypeError, match=r"no backup codec for odd\.x"):
        TableCodec.of(odd)


@given(fen=st.integers(min_value=-(2**62), max_value=2**62), at=moments,
       day=st.dates(), body=st.binary(max_size=64), doc=json_values, ok=st.booleans(),
       ratio=st.floats(allow_nan=False, allow_infinity=False), name=st.text(max_size=20))
def test_values_survive_json_text_exactly(fen: int, at: datetime, day: date, body: bytes,
                                          doc: Any, ok: bool, ratio: float, name: str) -> None:
    amount = (Decimal(fen) / 100).quantize(Decimal("0.01"))
    row = [7, amount, at, day, body, doc, ok, ratio, name]
    back = CODEC.decode(_through_text(row))
    assert list(back.values()) == row
    assert back["at"].utcoffset() == at.utcoffset()


def test_money_is_written_as_integer_fen_and_nulls_stay_null() -> None:
    encoded = CODEC.encode([1, Decimal("12345.67"), None, None, None, None, None, None, None])
    assert encoded[:3] == [1, 1234567, None]
    assert CODEC.decode(encoded)["amount_fen"] == Decimal("12345.67")

"""Column values to JSON and back, exactly, whatever the engine: the row format of backups.

Chosen by the column's type, so a line holds plain JSON values and nothing is guessed:

=====================  ==============================================================
type                   in the file
=====================  ==============================================================
``Money``              integer fen (the stored value; the column names end in ``_fen``)
``AwareDateTime``      ISO 8601 with its UTC offset, microseconds kept
``Date``               ``YYYY-MM-DD``
``LargeBinary``        base64 (the archive's bodies, byte for byte)
``JSON``               the JSON value itself
integers, floats,      themselves (floats as Python's shortest round-tripping repr)
booleans, text
=====================  ==============================================================

A column of any other type is refused when the codec is built, so a new type cannot slip
into a backup that would not restore.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Integer, LargeBinary, String, Table, Text
from sqlalchemy.types import TypeEngine

from yibaodai.db.types import AwareDateTime, Money

Encode = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _yuan(value: int) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _unb64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


#: Most specific first: Money is a TypeDecorator over BigInteger, AwareDateTime over DateTime.
_CODECS: list[tuple[type[TypeEngine[Any]], Encode, Encode]] = [
    (Money, _fen, _yuan),
    (AwareDateTime, _iso, datetime.fromisoformat),
    (Date, _iso, date.fromisoformat),
    (LargeBinary, _b64, _unb64),
    (JSON, _same, _same),
    (Boolean, _same, _same),
    (Integer, _same, _same),
    (Float, _same, _same),
    (String, _same, _same),
    (Text, _same, _same),
]


def _codec(type_: TypeEngine[Any], where: str) -> tuple[Encode, Encode]:
    for kind, encode, decode in _CODECS:
        if isinstance(type_, kind):
            return encode, decode
    raise TypeError(f"no backup codec for {where} of type {type_!r}")


@dataclass(frozen=True)
class TableCodec:
    """Rows of one table as lists of JSON values in ``columns`` order, and back."""

    table: Table
    columns: tuple[str, ...]
    _encoders: tuple[Encode, ...]
    _decoders: tuple[Encode, ...]

    @classmethod
    def of(cls, table: Table) -> TableCodec:
        pairs = [_codec(c.type, f"{table.name}.{c.name}") for c in table.columns]
        return cls(table, tuple(c.name for c in table.columns),
                   tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    def encode(self, row: Any) -> list[Any]:
        return [None if v is None else f(v) for f, v in zip(self._encoders, row, strict=True)]

    def decode(self, values: list[Any]) -> dict[str, Any]:
        return {name: None if v is None else f(v)
                for name, f, v in zip(self.columns, self._decoders, values, strict=True)}

"""The calendar month of a DATE column as ``YYYY-MM`` text, in each engine's SQL: the key of
``settlement_months`` and of every per-month sum."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func


def month_text(column: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)

"""Serialising appends to hash-chained tables. SQLite transactions already hold the write lock
(BEGIN IMMEDIATE); PostgreSQL needs a table lock so two appenders cannot read the same tail."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_for_append(session: Session, table: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))

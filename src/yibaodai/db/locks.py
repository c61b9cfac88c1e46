"""Serialising appends to hash-chained tables. SQLite transactions already hold the write lock
(BEGIN IMMEDIATE); PostgreSQL needs a table lock so two appenders cannot read the same tail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from yibaodai.db.session import no_transaction_yet


def _lock(table: str) -> str:
    return f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"


def lock_for_append(session: Session, table: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(_lock(table)))


def locked_tail(session: Session, table: str) -> str | None:
    """Take the append lock of ``table`` and read its newest ``record_hash`` (None: empty).

    On PostgreSQL the lock and the read go in one round trip: two statements in one simple
    query. Each statement of a simple query takes its own snapshot (READ COMMITTED), so the
    read sees every append committed before the lock was granted. Why one round trip: the
    lock is held until the caller commits, and every round trip made while holding it (with
    the wait for the interpreter lock when the answer comes back) is a wait for every other
    appender; the audit append of each personal-data view is on the platform's busiest pages.
    On a read session's connection (``Database.read_unit_of_work``, no transaction yet) the
    same round trip opens the transaction the lock is held in.
    """
    newest = f"SELECT record_hash FROM {table} ORDER BY id DESC LIMIT 1"
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(text(newest)).scalar()
    driver: Any = session.connection().connection.driver_connection
    begin = "BEGIN; " if no_transaction_yet(driver) else ""
    cursor = driver.cursor()
    try:
        cursor.execute(f"{begin}{_lock(table)}; {newest}")
        if begin:
            cursor.nextset()
        cursor.nextset()
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else str(row[0])

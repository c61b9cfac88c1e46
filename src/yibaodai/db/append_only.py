"""Append-only tables, enforced by the database itself.

Code never updates or deletes rows of the evidence tables, but a person with SQL access
could; these triggers make the database refuse ``UPDATE`` and ``DELETE`` (and, on
PostgreSQL, ``TRUNCATE``) on them, whoever asks. Both engines raise an integrity error
(SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23001 ``restrict_violation``), so the
application sees ``sqlalchemy.exc.IntegrityError`` on either.

A DBA can still drop a trigger: that is what the keyed chains and signed checkpoints
(``audit.chain``, ``audit.checkpoints``) are for. The one place the application itself lifts
the triggers is ``restore --force``, inside the transaction that replaces the data, so a
failure leaves them (and the old data) in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.orm import Session

APPEND_ONLY_TABLES: tuple[str, ...] = ("audit_log", "raw_messages", "case_events",
                                       "chain_checkpoints")
_FUNCTION = "yibaodai_append_only"


def _message(table: str) -> str:
    return f"{table} 只可追加，不得修改或删除 / {table} is append-only"


def install(conn: Connection, tables: Iterable[str] = APPEND_ONLY_TABLES) -> None:
    """Create the refusing triggers on ``tables`` (and, on PostgreSQL, their function)."""
    if conn.dialect.name == "postgresql":
        # ("%%": psycopg's placeholders; PL/pgSQL sees "%", its own)
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%% 只可追加，不得修改或删除 / %% is append-only: %% refused', "
            "TG_TABLE_NAME, TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation'; END $$")
        for table in tables:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()")
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()")
        return
    for table in tables:
        for verb in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_message(table)}'); END")


def remove(conn: Connection, tables: Iterable[str] = APPEND_ONLY_TABLES, *,
           drop_function: bool = False) -> None:
    """Drop the triggers of ``tables`` (the migration's downgrade also drops the function)."""
    postgresql = conn.dialect.name == "postgresql"
    for table in tables:
        names = ("append_only", "no_truncate") if postgresql else ("no_update", "no_delete")
        for name in names:
            on = f" ON {table}" if postgresql else ""
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_{name}{on}")
    if postgresql and drop_function:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")


@contextmanager
def lifted(session: Session, tables: Iterable[str] = APPEND_ONLY_TABLES) -> Iterator[None]:
    """The triggers of ``tables`` dropped for the body of the block and created again at its
    end, all in the session's transaction (DDL is transactional on both engines): if the
    block fails and the transaction rolls back, the triggers were never gone."""
    names = tuple(tables)
    remove(session.connection(), names)
    yield
    install(session.connection(), names)

"""Change notes: how a process learns, exactly and cheaply, that the data behind a cached read
changed — whichever process changed it (the web server, a worker, a DBA's SQL).

Triggers on the tracked tables insert a row into ``data_changes`` for every changing
statement (PostgreSQL, ``FOR EACH STATEMENT``) or row (SQLite, which has only row triggers),
inside the changing transaction. ``version`` is the pair (number of rows, largest id) a
transaction sees:

* without pruning the rows a transaction sees only ever grow (a change becomes visible when
  it commits, with its notes), so a different set of visible changes has a different count;
* ``prune`` deletes the notes seen and inserts a marker in the same transaction, and ids only
  grow (a sequence; ``AUTOINCREMENT`` on SQLite), so every version after a prune has a larger
  id than every version before it.

Equal versions therefore mean the same committed changes: a read cached with the version
read *before* it is still the read's answer while the version is unchanged. A per-table
counter row would be smaller, but every writer would hold its lock to the end of the
transaction, in whatever order its statements reach the tables (deadlocks with the audit
chain's lock); inserts never wait for each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from yibaodai.db.models import DataChangeRow

#: The tables the dashboard (and the running campaigns on it) reads; ``test_dashboard_cache``
#: checks the dashboard reads no other table. Migration 0017 installs their triggers; a read
#: that adds a table needs a migration adding its trigger.
TRACKED_TABLES: tuple[str, ...] = (
    "authorizations", "campaign_targets", "campaigns", "case_events", "cases", "decisions",
    "institutions", "outreach_events", "prospects", "sub_branches", "warnings")
_FUNCTION = "yibaodai_note_change"
PRUNE_MARKER = "(pruned)"
#: ``version`` counts the visible notes: above this many, the dashboard prunes them once it
#: has computed its answer (``web.routes.dashboard``).
PRUNE_ABOVE = 2000


def install(conn: Connection, tables: Iterable[str] = TRACKED_TABLES) -> None:
    """Create the noting triggers on ``tables`` (and, on PostgreSQL, their function)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN INSERT INTO data_changes (table_name) VALUES (TG_TABLE_NAME); "
            "RETURN NULL; END $$")
        for table in tables:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_noted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()")
        return
    for table in tables:
        for verb in ("INSERT", "UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_noted_{verb.lower()} AFTER {verb} ON {table} "
                f"BEGIN INSERT INTO data_changes (table_name) VALUES ('{table}'); END")


def remove(conn: Connection, tables: Iterable[str] = TRACKED_TABLES, *,
           drop_function: bool = False) -> None:
    """Drop the triggers of ``tables`` (the migration's downgrade also drops the function)."""
    postgresql = conn.dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_noted ON {table}")
            continue
        for verb in ("insert", "update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_noted_{verb}")
    if postgresql and drop_function:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")


Version = tuple[int, int]

_VERSION = select(func.count(), func.coalesce(func.max(DataChangeRow.id), 0))


def version(session: Session) -> Version:
    """(notes visible, largest id): read it *before* the read it will key."""
    count, last = session.execute(_VERSION).one()
    return int(count), int(last)


def prune(session: Session, seen: Version) -> None:
    """Delete the notes up to ``seen``'s largest id and insert the marker that makes every
    later version differ from every earlier one. The caller commits."""
    session.execute(delete(DataChangeRow).where(DataChangeRow.id <= seen[1]))
    session.execute(insert(DataChangeRow).values(table_name=PRUNE_MARKER))

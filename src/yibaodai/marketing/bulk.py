"""Writing an import's rows in bulk, inside the caller's transaction.

An import writes some 20,000 prospects and as many match rows at once. Through SQLAlchemy's
``executemany`` PostgreSQL gets them one statement per row (psycopg's pipeline), which was
most of an import's time there, and on both backends SQLAlchemy spends more time preparing
each row's parameters than the database spends storing it. So the rows go to the driver
connection of the session's own transaction (a failure still rolls everything back): as
``COPY ... FROM STDIN`` on PostgreSQL, as one ``executemany`` of a plain INSERT on SQLite.

Each value goes through its column type's bind processing first, as SQLAlchemy would do it
(time zones to UTC, JSON through the engine's serializer), so what is stored is the same; a
value object shared by many rows (the import's timestamp) is processed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Processor = Callable[[Any], Any]


def _processed(dialect: Dialect, table: Table, names: Sequence[str],
               rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as the driver is given them by SQLAlchemy: each column's bind processor
    applied, in ``names`` order."""
    processors: list[_Processor | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    columns: list[list[Any]] = []
    for name, process in zip(names, processors, strict=True):
        values = [row[name] for row in rows]
        if process is not None:
            done: dict[int, Any] = {}  # by id(): the same object gives the same value
            values = [done[id(v)] if id(v) in done else done.setdefault(id(v), process(v))
                      for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``) into ``table``.
    Python-side column defaults are not applied: such a column must be given."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    if dialect.name not in ("postgresql", "sqlite"):
        session.execute(insert(table), list(rows))
        return
    defaulted = [c.name for c in table.columns if c.default is not None and c.name not in names]
    if defaulted:
        raise ValueError(f"insert_rows into {table.name}: give {', '.join(defaulted)}")
    values = _processed(dialect, table, names, rows)
    quote = dialect.identifier_preparer
    target = (f"{quote.format_table(table)} "
              f"({', '.join(quote.format_column(table.c[name]) for name in names)})")
    driver = connection.connection.driver_connection
    assert driver is not None
    if dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:  # sqlite3: qmark parameters
        driver.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})",
                           values)

"""Writing an import's rows in bulk, inside the caller's transaction.

An import writes some 20,000 prospects and as many match rows at once. SQLAlchemy's
``executemany`` sends them to PostgreSQL one statement per row (psycopg's pipeline), which is
most of an import's time there; ``COPY ... FROM STDIN`` on the same connection streams them in
one statement, in the same transaction (a failure still rolls everything back). Each value
goes through its column type's bind processing first, exactly as ``executemany`` would do it
(time zones to UTC, JSON through the engine's serializer), so what is stored is the same.
SQLite has no COPY and no round trips to save: there the rows go through ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``) into ``table``."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    quote = dialect.identifier_preparer
    statement = (f"COPY {quote.format_table(table)} "
                 f"({', '.join(quote.format_column(c) for c in columns)}) FROM STDIN")
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] if process is None else process(row[name])
                            for name, process in zip(names, processors, strict=True)])

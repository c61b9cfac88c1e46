"""Engine and unit of work. The service layer is the only place that commits; a unit of work
rolls back unless told to commit, so a crash mid-step leaves nothing half-written."""

from __future__ import annotations

import re
import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from yibaodai.errors import ConfigurationError

if TYPE_CHECKING:
    from yibaodai.audit.keys import ChainKeys


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder (``./var/`` in a fresh clone)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event open the transaction (see below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock up front: the gateway, dispatcher and web threads share the
            # file, and a deferred transaction that later writes can fail its lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    event.listen(engine, "checkout", _refuse_if_closed_by_server)
    event.listen(engine, "before_cursor_execute", _open_transaction_before_a_write)
    return engine


#: What a statement that changes data or takes a lock begins with (after comments and
#: blanks), and the clauses that make a SELECT lock rows.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|LOCK|WITH\b.*\b(INSERT|UPDATE|DELETE)\b)",
                     re.IGNORECASE | re.DOTALL)
_LOCKING_SELECT = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b", re.IGNORECASE)


def writes(statement: str) -> bool:
    """Whether ``statement`` changes data or takes a lock, so it must run inside the
    transaction the rest of the unit of work commits with (a read session's first one
    opens it: :func:`_open_transaction_before_a_write`). Read from the text, so it errs on
    the safe side: a literal that looks like a locking clause costs one needless BEGIN."""
    return bool(_WRITES.match(statement) or _LOCKING_SELECT.search(statement))


def _open_transaction_before_a_write(conn: Any, cursor: Any, statement: str, _params: Any,
                                     _context: Any, _executemany: bool) -> None:
    """On a read session's connection (psycopg in autocommit: ``Database.read_unit_of_work``)
    the first statement that writes or locks opens the transaction first; from then on the
    unit of work is an ordinary one, ended by its ``commit()`` or its rollback. Statements
    before it were reads, each with its own snapshot, as in any READ COMMITTED transaction.
    A streamed read (a server-side cursor: the exports) needs a transaction too.
    """
    driver = cursor.connection
    if no_transaction_yet(driver) and (writes(statement) or isinstance(cursor, ServerCursor)):
        driver.execute("BEGIN")


def no_transaction_yet(driver: Any) -> bool:
    """A read session's psycopg connection (autocommit) before its first write: whoever
    writes or locks on it must open the transaction first."""
    return bool(driver.autocommit and driver.info.transaction_status == TransactionStatus.IDLE)


def _refuse_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has ended (a restart, an administrator's
    ``pg_terminate_backend``) is thrown away at checkout; the pool then opens a new one.

    Why not SQLAlchemy's ``pool_pre_ping``: it sends a query and waits for the answer on
    every checkout — a round trip on every request, and under load every round trip waits
    again for the interpreter lock. An ended connection shows without one: the server sends
    its termination notice and closes the socket, so between transactions (when nothing
    else may arrive) a socket that is readable, or a connection psycopg already knows is
    broken, is one the server ended. A false alarm costs one new connection."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("connection closed")
    readable, _, _ = select.select([dbapi_conn.pgconn.socket], [], [], 0)
    if readable:
        raise DisconnectionError("the server ended this connection")


def execute_and_commit(session: Session, statement: Executable,
                       values: dict[str, Any]) -> None:
    """Execute ``statement`` (one that returns no rows) and commit the session. On
    PostgreSQL both go in one round trip: psycopg's pipeline sends the statement and the
    COMMIT together and reads both answers (or the error) at its end. Why: the audit row of
    a personal-data view is the last statement of its page, made under the chain's lock,
    and every round trip under that lock is a wait for every other viewer. An error rolls
    everything back and is raised as SQLAlchemy's, as from ``session.execute``."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(statement, values)
        session.commit()
        return
    session.flush()  # anything the session still holds goes into this transaction too
    driver: Any = session.connection().connection.driver_connection
    try:
        with driver.pipeline():
            session.execute(statement, values)
            driver.execute("COMMIT")
    except psycopg.Error as exc:
        session.rollback()
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    session.commit()  # the session's side of the transaction the COMMIT just ended


def core_rows(session: Session, statement: Executable,
              params: dict[str, Any]) -> list[Row[Any]]:
    """The rows of a select of columns (never entities) through the session's connection,
    without the ORM's result machinery: a third of a small statement's Python (py-spy: the
    case page and the institution view, each a handful of such reads per request). Rows are
    keyed by the columns' names in the database, so a column whose attribute is named
    otherwise (the Money columns, ``*_fen``) is labelled with the attribute's name."""
    return list(session.connection().execute(statement, params).all())


class Database:
    """One database and the bank's chain keys its hash-chained tables are linked with
    (``audit.chain``; its sessions carry the database in ``session.info["database"]``)."""

    def __init__(self, url: str, *, chain_keys: ChainKeys | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._chain_keys = chain_keys
        self._sessions = sessionmaker(self.engine, expire_on_commit=False,
                                      info={"database": self})
        reads = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                 if self.engine.dialect.name == "postgresql" else self.engine)
        self._read_sessions = sessionmaker(reads, expire_on_commit=False,
                                           info={"database": self})

    @property
    def chain_keys(self) -> ChainKeys:
        """The keys given at construction (``bootstrap.open_database`` reads them from the
        settings). Only writers of chained rows need them, so a read-only tool may open the
        database without; a writer without keys is a wiring mistake and says so."""
        if self._chain_keys is None:
            raise ConfigurationError(
                "数据库未配置链密钥，无法写入审计或归档记录",
                "this database was opened without chain keys; open it with "
                "bootstrap.open_database(settings)", code="chain_keys_missing")
        return self._chain_keys

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work is committed only by an explicit ``session.commit()``."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def read_unit_of_work(self) -> Iterator[Session]:
        """A unit of work that mostly reads (the API's GET requests): the same as
        :meth:`unit_of_work` to its callers, but on PostgreSQL no transaction is opened until
        its first write or lock. Why: psycopg opens a transaction with a BEGIN of its own,
        one round trip, and ends it with another; under load every round trip also waits
        again for the interpreter lock. A read-only page saves both; a page that writes (the
        audit row of a personal-data view) opens its transaction at that write, and its
        ``commit()`` ends it. On SQLite this is :meth:`unit_of_work` (BEGIN IMMEDIATE)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

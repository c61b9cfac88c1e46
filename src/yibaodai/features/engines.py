"""Run the feature definitions on an engine.

Online (one institution at decision time): SQLite and PostgreSQL, on the application's own
SQLAlchemy session or connection (or its URL). Batch (every institution): DuckDB over in-memory
tables or parquet files, and PySpark (optional extra ``spark``). Whatever the engine, the same
``definitions.feature_table`` expression runs; ``finalise`` turns a row into JSON-friendly
values.

Building the Ibis expression and compiling it with sqlglot costs about half a second, far more
than running it for one institution. So the SQL is compiled once per (``as_of``, dialect,
one-or-all institutions) over *unbound* tables of a fixed schema and cached (``compiled``);
for one institution the code is a bound parameter ``:fixmedins_code`` of the cached statement,
never part of the SQL text. Every later call on that day only executes the cached SQL.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import sqlglot.expressions as sge
from sqlalchemy import Connection, Engine, TextClause, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from yibaodai.features.definitions import (
    FLOAT_COLUMNS,
    INT_COLUMNS,
    feature_table,
    month_label,
)

FACTS, INSTITUTIONS, EVENTS = "settlement_facts", "institutions", "institution_events"
TABLES = (FACTS, INSTITUTIONS, EVENTS)
_CENT = Decimal("0.01")
#: Name of the bound parameter holding the institution code in the online statement.
CODE_PARAM = "fixmedins_code"
#: Stand-in literal compiled in place of the code, then replaced in the sqlglot tree by the
#: bind parameter (never by a value). Cannot be a real code (those are 12 characters).
_CODE_SENTINEL = "__yibaodai_fixmedins_code_parameter__"
#: Compiled statements kept (one per decision date, dialect and shape; a day uses 1-2).
_CACHE_SIZE = 32

Backend = Any  # ibis.BaseBackend; Ibis ships no type information

#: The columns the definitions read, with the types every engine stores them as (amounts in
#: integer fen). The app's tables have more columns; the query names only these.
SCHEMAS: dict[str, dict[str, str]] = {
    FACTS: {
        "fixmedins_code": "string", "setl_date": "date", "setl_cnt": "int64",
        "refd_setl_cnt": "int64", "medfee_sumamt_fen": "int64", "fund_pay_sumamt_fen": "int64",
        "hifp_pay_fen": "int64", "acct_pay_fen": "int64", "psn_cash_pay_fen": "int64",
    },
    INSTITUTIONS: {
        "fixmedins_code": "string", "fixmedins_type": "string", "hosp_lv": "string",
        "ownership": "string", "biz_stas": "string", "cred_lv_name": "string",
        "begntime": "date",
    },
    EVENTS: {"fixmedins_code": "string", "evt_type": "string", "evt_date": "date"},
}

#: SQLAlchemy dialect / Ibis backend name -> Ibis compiler (sqlglot dialect) name.
_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres",
             "duckdb": "duckdb", "pyspark": "pyspark"}


# --- compiled, cached SQL ---------------------------------------------------------------------


def unbound_feature_expr(*, as_of: date, codes: Sequence[str] | None = None) -> Any:
    """The feature expression over unbound tables named as in the database."""
    facts, inst, events = (ibis.table(SCHEMAS[n], name=n) for n in TABLES)
    return feature_table(facts, inst, events, as_of=as_of, codes=codes)


@dataclass(frozen=True)
class CompiledFeatures:
    """The features of one ``as_of`` as SQL of one dialect. ``one_institution``: the SQL
    selects the institution whose code is bound to ``:fixmedins_code``."""

    as_of: date
    dialect: str
    one_institution: bool
    sql: str
    #: ``sql`` as a SQLAlchemy statement (binds ``:fixmedins_code``).
    statement: TextClause = field(compare=False, repr=False)


_cache: OrderedDict[tuple[date, str, bool], CompiledFeatures] = OrderedDict()
_lock = threading.Lock()


def _compile(as_of: date, dialect: str, one_institution: bool) -> CompiledFeatures:
    import ibis.backends.sql.compilers as sc

    compiler = getattr(sc, dialect).compiler
    expr = unbound_feature_expr(as_of=as_of,
                                codes=[_CODE_SENTINEL] if one_institution else None)
    tree = compiler.to_sqlglot(expr)
    if one_institution:
        seen = 0

        def bind(node: sge.Expression) -> sge.Expression:
            nonlocal seen
            if isinstance(node, sge.Literal) and node.is_string and node.this == _CODE_SENTINEL:
                seen += 1
                return sge.Var(this=f":{CODE_PARAM}")
            return node

        tree = tree.transform(bind)
        if seen == 0:
            raise AssertionError("the institution filter was not found in the compiled SQL")
    sql = tree.sql(dialect=compiler.dialect)
    if _CODE_SENTINEL in sql:
        raise AssertionError("the code stand-in survived compilation")
    return CompiledFeatures(as_of, dialect, one_institution, sql, text(sql))


def compiled(as_of: date, dialect: str, *, one_institution: bool = False) -> CompiledFeatures:
    """The cached SQL of the features at ``as_of`` for ``dialect`` (a SQLAlchemy dialect or
    Ibis backend name: sqlite, postgresql, duckdb, pyspark). Compiled on first use."""
    key = (as_of, _DIALECTS[dialect], one_institution)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    fresh = _compile(*key)  # outside the lock: ~0.5 s; a race compiles twice, harmlessly
    with _lock:
        _cache[key] = fresh
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return fresh


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _driver_sql.clear()


# --- rows -------------------------------------------------------------------------------------


def _coerce(row: Mapping[str, Any]) -> dict[str, Any]:
    """Engine values -> int / float / str / None, the same on every engine."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if value is None:
            out[name] = None
        elif name in INT_COLUMNS:
            out[name] = int(value)
        elif name in FLOAT_COLUMNS:
            f = float(value)
            out[name] = None if math.isnan(f) else f
        else:
            out[name] = value
    return out


def _sqlalchemy_connection(target: Session | Connection) -> Connection:
    return target.connection() if isinstance(target, Session) else target


_SQLITE_UDFS = "yibaodai.features.sqlite_udfs"


def _prepare(conn: Connection) -> None:
    """SQLite: the compiled SQL calls functions Ibis defines in Python (``sqrt`` where the
    SQLite build lacks it, ``_ibis_date_delta``); register them once per DBAPI connection."""
    if conn.dialect.name != "sqlite":
        return
    pooled = conn.connection
    if pooled.info.get(_SQLITE_UDFS):
        return
    from ibis.backends.sqlite.udf import register_all

    register_all(pooled.driver_connection)
    pooled.info[_SQLITE_UDFS] = True


def sql_rows(target: Session | Connection, *, as_of: date,
             fixmedins_code: str | None = None) -> list[dict[str, Any]]:
    """Raw features (amounts in fen) on an open SQLAlchemy session or connection (SQLite or
    PostgreSQL), inside its transaction: of one institution, or of all (sorted by code)."""
    conn = _sqlalchemy_connection(target)
    _prepare(conn)
    one = fixmedins_code is not None
    c = compiled(as_of, conn.dialect.name, one_institution=one)
    params = {CODE_PARAM: fixmedins_code} if one else {}
    if conn.dialect.driver == "psycopg":
        raw = _psycopg_rows(conn, c, params)
    else:
        raw = [dict(r) for r in conn.execute(c.statement, params).mappings()]
    return sorted((_coerce(r) for r in raw), key=lambda r: str(r["fixmedins_code"]))


_driver_sql: dict[CompiledFeatures, str] = {}


def _psycopg_rows(conn: Connection, c: CompiledFeatures,
                  params: dict[str, Any]) -> list[dict[str, Any]]:
    """PostgreSQL: the same statement through the session's own psycopg connection (same
    transaction), as a server-side prepared statement with a generic plan from the first
    call. Parsing and planning the ~50 KB query costs ~15-40 ms; psycopg would only prepare
    it after five executions per connection and PostgreSQL would then plan five more times,
    so without this every pooled connection pays that ten times. The code is still a bound
    parameter. psycopg deallocates its prepared statements when a transaction on the
    connection is rolled back; the next call then prepares again (a few ms, nothing else)."""
    with _lock:
        sql = _driver_sql.get(c)
        if sql is None:
            sql = _driver_sql[c] = str(c.statement.compile(dialect=conn.dialect))
            if len(_driver_sql) > _CACHE_SIZE:
                _driver_sql.pop(next(iter(_driver_sql)))
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cur:
        # A generic plan from the first execution (PostgreSQL would otherwise re-plan the
        # first five), then the transaction's previous setting back.
        cur.execute("SELECT current_setting('plan_cache_mode'), "
                    "set_config('plan_cache_mode', 'force_generic_plan', true)")
        previous = cur.fetchone()[0]
        try:
            cur.execute(sql, params, prepare=True)
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            cur.execute("SELECT set_config('plan_cache_mode', %s, true)", (previous,))


def connect(target: str | Backend) -> tuple[Backend, bool]:
    """An Ibis backend for a SQLAlchemy URL (sqlite / postgresql / duckdb) or an open backend.
    Returns (backend, owned): ``owned`` backends were opened here and should be closed."""
    if not isinstance(target, str):
        return target, False
    url = make_url(target)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("online features need a SQLite file, not an in-memory database")
        return ibis.sqlite.connect(url.database), True
    if backend == "postgresql":
        return ibis.postgres.connect(
            host=url.host or "localhost", port=url.port or 5432, user=url.username,
            password=url.password, database=url.database), True
    if backend == "duckdb":
        return ibis.duckdb.connect(url.database or ":memory:"), True
    raise ValueError(f"no feature engine for database URL scheme {backend!r}")


def feature_expr(con: Backend, *, as_of: date, codes: Sequence[str] | None = None) -> Any:
    """The feature expression bound to ``con``'s tables (codes as Ibis literals)."""
    return feature_table(con.table(FACTS), con.table(INSTITUTIONS), con.table(EVENTS),
                         as_of=as_of, codes=codes)


def _run_compiled(con: Backend, sql: str) -> list[dict[str, Any]]:
    """Run cached SQL on an Ibis backend's own connection, skipping Ibis's compile step."""
    if con.name == "duckdb":
        rows: list[dict[str, Any]] = con.con.sql(sql).to_arrow_table().to_pylist()
        return rows
    if con.name == "pyspark":
        return [r.asDict() for r in con._session.sql(sql).collect()]
    cursor = con.raw_sql(sql)  # sqlite / postgres Ibis backends
    try:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        cursor.close()


def duckdb_arrow(con: Backend, *, as_of: date) -> Any:
    """Every institution's raw features on an Ibis DuckDB backend as a pyarrow Table (the
    cached compiled SQL run on DuckDB's own connection; the batch path without Python rows)."""
    return con.con.sql(compiled(as_of, "duckdb").sql).to_arrow_table()


def compute_rows(con: Backend | Session | Connection, *, as_of: date,
                 codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Raw engine output (amounts in fen), one dict per institution, sorted by code.

    ``con``: an Ibis backend (DuckDB, PySpark, SQLite, PostgreSQL) or a SQLAlchemy session /
    connection. All institutions (``codes=None``) or one run the cached compiled SQL; other
    code lists go through Ibis with the codes as literals."""
    if isinstance(con, Session | Connection):
        if codes is None:
            return sql_rows(con, as_of=as_of)
        return [r for code in sorted(set(codes))
                for r in sql_rows(con, as_of=as_of, fixmedins_code=code)]
    if codes is None and con.name in _DIALECTS:
        rows = _run_compiled(con, compiled(as_of, con.name).sql)
    else:
        rows = con.to_pyarrow(feature_expr(con, as_of=as_of, codes=codes)).to_pylist()
    return sorted((_coerce(r) for r in rows), key=lambda r: str(r["fixmedins_code"]))


def _yuan(fen: int) -> str:
    return str((Decimal(int(fen)) / 100).quantize(_CENT))


def _mean_yuan(fen: int, months: int) -> str:
    return str((Decimal(int(fen)) / 100 / months).quantize(_CENT))


def finalise(raw: Mapping[str, Any], *, as_of: date) -> dict[str, Any]:
    """JSON-friendly features: sums as exact yuan strings with 2 decimals, monthly means
    rounded half-even to the fen, ratios as floats (None when undefined), counts as ints."""
    out: dict[str, Any] = {"as_of": as_of.isoformat()}
    for name, value in raw.items():
        if name.endswith("_fen") or name.startswith("fund_pay_m"):
            continue
        if name in FLOAT_COLUMNS:
            out[name] = None if value is None or value != value else float(value)
        elif name in INT_COLUMNS:
            out[name] = None if value is None else int(value)
        else:
            out[name] = value
    for what in ("fund_pay", "medfee"):
        for w in (3, 6, 12):
            fen = raw[f"{what}_{w}m_fen"]
            out[f"{what}_{w}m"] = _yuan(fen)
            out[f"avg_monthly_{what}_{w}m"] = _mean_yuan(fen, w)
    out["monthly_fund_pay_12m"] = {
        month_label(as_of, k): _yuan(raw[f"fund_pay_m{k:02d}_fen"]) for k in range(12, 0, -1)
    }
    return out


_engines: dict[str, Engine] = {}


def _engine_for(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_engine(url)
        return engine


def institution_features(target: str | Session | Connection | Backend, *,
                         fixmedins_code: str, as_of: date) -> dict[str, Any]:
    """Every feature of one institution at ``as_of`` (decision time), JSON-friendly.

    ``target``: the caller's SQLAlchemy session or connection (SQLite or PostgreSQL; the
    query runs inside its transaction, so it sees facts the same unit of work just wrote), the
    application's SQLAlchemy URL, or an open Ibis backend. The first call for an ``as_of`` and
    dialect compiles the SQL (~0.5 s); later calls only execute it. Raises ``LookupError``
    when the institution has no profile row."""
    if isinstance(target, str) and make_url(target).get_backend_name() in ("sqlite",
                                                                           "postgresql"):
        with _engine_for(target).connect() as conn:
            rows = sql_rows(conn, as_of=as_of, fixmedins_code=fixmedins_code)
    elif isinstance(target, Session | Connection):
        rows = sql_rows(target, as_of=as_of, fixmedins_code=fixmedins_code)
    else:
        con, owned = connect(target)
        try:
            rows = compute_rows(con, as_of=as_of, codes=[fixmedins_code])
        finally:
            if owned:
                con.disconnect()
    if not rows:
        raise LookupError(f"no institution {fixmedins_code}")
    return finalise(rows[0], as_of=as_of)


# --- batch engines ----------------------------------------------------------------------------


def duckdb_backend(tables: Mapping[str, Any] | None = None, *,
                   parquet_dir: Path | None = None) -> Backend:
    """An in-memory DuckDB with the three tables, from data frames / Arrow tables or from
    ``<parquet_dir>/<table>.parquet`` files (read in place as views)."""
    con = ibis.duckdb.connect()
    if parquet_dir is not None:
        for name in TABLES:
            con.read_parquet(parquet_dir / f"{name}.parquet", table_name=name)
    for name, data in (tables or {}).items():
        con.create_table(name, data)
    return con


def spark_backend(session: Any, tables: Mapping[str, Any]) -> Backend:
    """A PySpark backend over ``session`` with the three tables registered as temp views.
    ``tables`` holds pyarrow Tables, pandas frames or Spark DataFrames."""
    for name, data in tables.items():
        frame = data if hasattr(data, "createOrReplaceTempView") else \
            session.createDataFrame(data)
        frame.createOrReplaceTempView(name)
    return ibis.pyspark.connect(session)


def batch_features(con: Backend, *, as_of: date) -> list[dict[str, Any]]:
    """Features of every institution, JSON-friendly, sorted by code."""
    return [finalise(r, as_of=as_of) for r in compute_rows(con, as_of=as_of)]

"""Run the feature definitions on an engine.

Online (one institution at decision time): SQLite and PostgreSQL, from the application's
SQLAlchemy URL. Batch (every institution): DuckDB over in-memory tables or parquet files, and
PySpark (optional extra ``spark``). Whatever the engine, the same ``definitions.feature_table``
expression runs; ``finalise`` turns a row into JSON-friendly values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
from sqlalchemy.engine import make_url

from yibaodai.features.definitions import (
    FLOAT_COLUMNS,
    INT_COLUMNS,
    feature_table,
    month_label,
)

FACTS, INSTITUTIONS, EVENTS = "settlement_facts", "institutions", "institution_events"
TABLES = (FACTS, INSTITUTIONS, EVENTS)
_CENT = Decimal("0.01")

Backend = Any  # ibis.BaseBackend; Ibis ships no type information


def connect(target: str | Backend) -> tuple[Backend, bool]:
    """An Ibis backend for a SQLAlchemy URL (sqlite / postgresql) or an open backend.
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
    return feature_table(con.table(FACTS), con.table(INSTITUTIONS), con.table(EVENTS),
                         as_of=as_of, codes=codes)


def compute_rows(con: Backend, *, as_of: date,
                 codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Raw engine output (amounts in fen), one dict per institution, sorted by code."""
    table = con.to_pyarrow(feature_expr(con, as_of=as_of, codes=codes))
    rows: list[dict[str, Any]] = table.to_pylist()
    return sorted(rows, key=lambda r: str(r["fixmedins_code"]))


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


def institution_features(database_url_or_connection: str | Backend, *, fixmedins_code: str,
                         as_of: date) -> dict[str, Any]:
    """Every feature of one institution at ``as_of`` (decision time), JSON-friendly.

    ``database_url_or_connection`` is the application's SQLAlchemy URL (``sqlite:///...`` or
    ``postgresql+psycopg://...``) or an open Ibis backend. Raises ``LookupError`` when the
    institution has no profile row."""
    con, owned = connect(database_url_or_connection)
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

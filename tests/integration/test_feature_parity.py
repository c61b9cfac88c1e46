"""The same feature definitions give the same answers on SQLite, PostgreSQL, DuckDB and
PySpark, for the same synthetic city: counts and fen sums exactly, ratios to 1e-9 relative.

PySpark is not optional here: CI installs it (``.[test]``), and a missing pyspark fails these
tests rather than skipping them. One local SparkSession serves the whole test session.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from yibaodai.clock import SHANGHAI
from yibaodai.db.models import InstitutionEventRow, InstitutionRow, SettlementFactRow
from yibaodai.features import engines
from yibaodai.features.definitions import FLOAT_COLUMNS, INT_COLUMNS, TEXT_COLUMNS
from yibaodai.sim.city import daily_settlements, generate_city

SEED = 4242
CITY_AS_OF = date(2026, 6, 30)
START, END = date(2024, 1, 1), date(2026, 6, 30)
# February (an unpaired January ends the recent window), May (January/February split between
# the windows) and an ordinary month.
AS_OFS = (date(2026, 2, 10), date(2025, 5, 20), date(2026, 6, 30))
FEN = Decimal(100)


def _fen(x: Decimal) -> int:
    return int(x * FEN)


@pytest.fixture(scope="module")
def city_tables() -> dict[str, list[dict[str, Any]]]:
    city = generate_city(seed=SEED, institutions=30, as_of=CITY_AS_OF)
    facts = [
        {"fixmedins_code": r.fixmedins_code, "setl_date": r.setl_date, "insutype": r.insutype,
         "clr_type": r.clr_type, "setl_cnt": r.setl_cnt, "refd_setl_cnt": r.refd_setl_cnt,
         "medfee_sumamt_fen": _fen(r.medfee_sumamt),
         "fund_pay_sumamt_fen": _fen(r.fund_pay_sumamt), "hifp_pay_fen": _fen(r.hifp_pay),
         "acct_pay_fen": _fen(r.acct_pay), "psn_cash_pay_fen": _fen(r.psn_cash_pay)}
        for inst in city
        for r in daily_settlements(inst, seed=SEED, start=START, end=END)
    ]
    institutions = [
        {"fixmedins_code": i.fixmedins_code, "fixmedins_name": i.fixmedins_name, "uscc": i.uscc,
         "fixmedins_type": i.fixmedins_type, "hosp_lv": i.hosp_lv or None,
         "biz_stas": i.biz_stas, "cred_lv_name": i.cred_lv_name, "ownership": i.ownership,
         "begntime": i.begntime}
        for i in city
    ]
    # One institution without a grade or designation date; events in and out of the window.
    institutions[1] |= {"cred_lv_name": None, "begntime": None}
    # One institution without any settlement: every ratio undefined, no division errors.
    institutions.append(institutions[4] | {"fixmedins_code": "H21020499999",
                                           "uscc": "91210200MA0000000X"})
    codes = [i.fixmedins_code for i in city]
    events = [
        {"fixmedins_code": codes[0], "evt_type": "penalty", "evt_date": date(2025, 3, 1)},
        {"fixmedins_code": codes[0], "evt_type": "penalty", "evt_date": date(2023, 1, 1)},
        {"fixmedins_code": codes[2], "evt_type": "suspension", "evt_date": date(2026, 1, 5)},
        {"fixmedins_code": codes[2], "evt_type": "restore", "evt_date": date(2026, 2, 5)},
        {"fixmedins_code": codes[3], "evt_type": "penalty", "evt_date": date(2026, 6, 1)},
    ]
    return {"settlement_facts": facts, "institutions": institutions,
            "institution_events": events}


def _arrow(tables: dict[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    keep = {"institutions": ("fixmedins_code", "fixmedins_type", "hosp_lv", "biz_stas",
                             "cred_lv_name", "ownership", "begntime")}
    out = {}
    for name, rows in tables.items():
        cols = keep.get(name)
        out[name] = pa.Table.from_pylist(
            [{k: r[k] for k in cols} for r in rows] if cols else rows)
    return out


@pytest.fixture(scope="module")
def duckdb_rows(city_tables: dict[str, list[dict[str, Any]]]) -> dict[date, list[dict[str, Any]]]:
    con = engines.duckdb_backend(_arrow(city_tables))
    return {a: engines.compute_rows(con, as_of=a) for a in AS_OFS}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession  # a missing pyspark fails: CI installs it

    session = (SparkSession.builder.master("local[2]").appName("yibaodai-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.codegen.wholeStage", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def assert_same(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> None:
    assert [r["fixmedins_code"] for r in actual] == [r["fixmedins_code"] for r in expected]
    for e, a in zip(expected, actual, strict=True):
        code = e["fixmedins_code"]
        for name in INT_COLUMNS:
            assert a[name] == e[name], (code, name, e[name], a[name])
            assert a[name] is None or isinstance(a[name], int), (code, name, a[name])
        for name in FLOAT_COLUMNS:
            x, y = e[name], a[name]
            if x is None or y is None:
                assert x is None and y is None, (code, name, x, y)
            else:
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), (code, name, x, y)
        for name in TEXT_COLUMNS:
            assert a[name] == e[name], (code, name, e[name], a[name])


def test_the_city_exercises_the_features(duckdb_rows: dict[date, list[dict[str, Any]]]) -> None:
    rows = duckdb_rows[date(2026, 6, 30)]
    assert len(rows) == 31
    assert {r["institution_type"] for r in rows} >= {"pharmacy", "clinic"}
    assert any(r["penalties_24m"] for r in rows) and any(r["suspensions_24m"] for r in rows)
    assert any(r["months_of_history"] < 24 for r in rows)
    assert any(r["cv_12m"] is None or r["worst_mom_drop_12m"] is not None for r in rows)
    assert any(r["months_since_designation"] is None for r in rows)


def _load(url: str, tables: dict[str, list[dict[str, Any]]]) -> None:
    now = datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI)
    amounts = ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")
    facts = [
        {**{k: v for k, v in r.items() if not k.endswith("_fen")},
         **{a: Decimal(r[a + "_fen"]) / FEN for a in amounts}, "source_msgid": "m"}
        for r in tables["settlement_facts"]
    ]
    engine = create_engine(url)
    with Session(engine) as s:
        s.execute(insert(InstitutionRow), [r | {"updated_at": now}
                                           for r in tables["institutions"]])
        s.execute(insert(InstitutionEventRow), [r | {"evt_desc": "", "source_msgid": "m"}
                                                for r in tables["institution_events"]])
        s.execute(insert(SettlementFactRow), facts)
        s.commit()
    engine.dispose()


def test_sqlite_and_postgresql_match_duckdb(
        db_url: str, city_tables: dict[str, list[dict[str, Any]]],
        duckdb_rows: dict[date, list[dict[str, Any]]]) -> None:
    _load(db_url, city_tables)
    con, owned = engines.connect(db_url)
    assert owned
    try:
        for as_of in AS_OFS:
            assert_same(duckdb_rows[as_of], engines.compute_rows(con, as_of=as_of))
    finally:
        con.disconnect()
    # The online path: the cached compiled SQL on the application's own session, all
    # institutions at once and each one with its code bound.
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            for as_of in AS_OFS:
                assert_same(duckdb_rows[as_of], engines.compute_rows(session, as_of=as_of))
                one_by_one = [engines.sql_rows(session, as_of=as_of, fixmedins_code=r[
                    "fixmedins_code"])[0] for r in duckdb_rows[as_of]]
                assert_same(duckdb_rows[as_of], one_by_one)
    finally:
        engine.dispose()
    # The online entry point: one institution, JSON-friendly, same values as the batch.
    code = duckdb_rows[AS_OFS[0]][0]["fixmedins_code"]
    online = engines.institution_features(db_url, fixmedins_code=code, as_of=AS_OFS[0])
    batch = engines.finalise(duckdb_rows[AS_OFS[0]][0], as_of=AS_OFS[0])
    assert online.keys() == batch.keys()
    for key, value in batch.items():
        if isinstance(value, float):
            assert math.isclose(online[key], value, rel_tol=1e-9), key
        else:
            assert online[key] == value, key


def test_the_online_statement_is_compiled_once_and_binds_the_code(
        db_url: str, city_tables: dict[str, list[dict[str, Any]]]) -> None:
    _load(db_url, city_tables)
    as_of = AS_OFS[2]
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            code = city_tables["institutions"][0]["fixmedins_code"]
            first = engines.institution_features(session, fixmedins_code=code, as_of=as_of)
            cached = engines.compiled(as_of, engine.dialect.name, one_institution=True)
            assert engines.compiled(as_of, engine.dialect.name, one_institution=True) is cached
            assert code not in cached.sql and f":{engines.CODE_PARAM}" in cached.sql
            assert engines.institution_features(session, fixmedins_code=code,
                                                as_of=as_of) == first
            hostile = "H'; DROP TABLE institutions; --"
            with pytest.raises(LookupError):
                engines.institution_features(session, fixmedins_code=hostile, as_of=as_of)
            assert engines.sql_rows(session, as_of=as_of, fixmedins_code="X") == []
            assert len(engines.compute_rows(session, as_of=as_of)) == 31
    finally:
        engine.dispose()


def test_pyspark_matches_duckdb(spark: Any, city_tables: dict[str, list[dict[str, Any]]],
                                duckdb_rows: dict[date, list[dict[str, Any]]]) -> None:
    con = engines.spark_backend(spark, _arrow(city_tables))
    for as_of in AS_OFS:
        assert_same(duckdb_rows[as_of], engines.compute_rows(con, as_of=as_of))

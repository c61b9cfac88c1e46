"""Benchmark: settlement features for 5,000 institutions x 3 years of daily summaries.

Side by side, in one run and on the same data: the Ibis definitions on DuckDB, a hand-written
DuckDB SQL of the same features, pandas, and the Ibis definitions on PySpark (local mode).
Checks that all four agree, prints a table and writes it to ``docs/bench-features.md`` with
the machine description and the command used.

    .venv/bin/python -m bench.features_bench [--institutions 5000] [--repeat 3] [--no-spark]

Not a test: run by hand when the definitions or the engines change.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import yibaodai.features.engines as engines
from bench.common import machine_facts, scratch_database
from yibaodai.features.definitions import (
    FLOAT_COLUMNS,
    INT_COLUMNS,
    MONTHS,
    TEXT_COLUMNS,
    Windows,
    month_index,
    month_start,
    smoothed_terms,
)
from yibaodai.sim.city import spring_festival_factor

AS_OF = date(2026, 1, 1)  # data 2023-01-01 .. 2025-12-31
OUT = Path(__file__).resolve().parent.parent / "docs" / "bench-features.md"


# --- data ---------------------------------------------------------------------------------------


def generate(n: int, seed: int = 1) -> dict[str, pa.Table]:
    """Vectorised synthetic daily summaries with the settlement_facts schema: two insurance
    lines per institution-day, weekday and Spring Festival patterns, trends, gaps."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", "2025-12-31", freq="D")
    n_days = len(days)
    day_factor = np.array([spring_festival_factor(d.date()) for d in days]) * np.where(
        days.day_of_week >= 5, 0.7, 1.0)
    base = rng.lognormal(mean=np.log(80_000), sigma=0.8, size=n)  # fen per day per line
    growth = rng.normal(0.0, 0.15, size=n)
    start = rng.integers(0, n_days // 2, size=n) * (rng.random(n) < 0.2)  # some start late
    codes = np.array([f"H{210200000000 + i:012d}"[-12:] for i in range(n)])
    frames = []
    t = np.arange(n_days) / 365.25
    for line, share in (("310", 0.6), ("390", 0.4)):
        level = (base[:, None] * share) * np.exp(growth[:, None] * t[None, :]) * day_factor
        level *= rng.lognormal(0.0, 0.25, size=(n, n_days))
        active = (np.arange(n_days)[None, :] >= start[:, None]) & (rng.random((n, n_days)) > 0.03)
        inst_idx, day_idx = np.nonzero(active)
        fund = np.round(level[inst_idx, day_idx]).astype(np.int64)
        medfee = np.round(fund / rng.uniform(0.4, 0.6, size=fund.size)).astype(np.int64)
        acct = np.round((medfee - fund) * rng.uniform(0.0, 0.6, size=fund.size)).astype(np.int64)
        cnt = np.maximum(1, np.round(medfee / 9_000)).astype(np.int64)
        frames.append(pa.table({
            "fixmedins_code": codes[inst_idx], "setl_date": days.date[day_idx],
            "insutype": np.full(fund.size, line), "clr_type": np.full(fund.size, "41"),
            "setl_cnt": cnt, "refd_setl_cnt": (cnt * rng.uniform(0, 0.04, fund.size)).astype(
                np.int64),
            "medfee_sumamt_fen": medfee, "fund_pay_sumamt_fen": fund,
            "hifp_pay_fen": np.round(fund * 0.95).astype(np.int64), "acct_pay_fen": acct,
            "psn_cash_pay_fen": medfee - fund - acct,
        }))
    facts = pa.concat_tables(frames)
    kinds = rng.integers(0, 3, size=n)
    institutions = pa.table({
        "fixmedins_code": codes,
        "fixmedins_type": np.where(kinds == 0, "2", "1"),
        "hosp_lv": np.where(kinds == 2, "一级", "未定级"),
        "ownership": np.full(n, "private"), "biz_stas": np.full(n, "1"),
        "cred_lv_name": rng.choice(["A", "B", "C", "D"], size=n),
        "begntime": [date(2010, 1, 1) + timedelta(days=int(x))
                     for x in rng.integers(0, 5000, size=n)],
    })
    k = n // 10
    events = pa.table({
        "fixmedins_code": rng.choice(codes, size=k),
        "evt_type": rng.choice(["penalty", "suspension", "restore"], size=k),
        "evt_date": [date(2022, 1, 1) + timedelta(days=int(x))
                     for x in rng.integers(0, 1460, size=k)],
    })
    return {"settlement_facts": facts, "institutions": institutions,
            "institution_events": events}


# --- hand-written DuckDB SQL --------------------------------------------------------------------


def _lin(terms: dict[int, float]) -> str:
    return " + ".join(f"{c!r} * f{k:02d}" for k, c in sorted(terms.items()))


def hand_sql(as_of: date) -> str:
    """The same features written directly in DuckDB SQL (FILTER, list functions)."""
    w = Windows.for_date(as_of)
    m = month_index(as_of)
    lo, hi = month_start(m - MONTHS), month_start(m)
    f = ", ".join(f"coalesce(sum(fund) FILTER (WHERE o = {k}), 0)::BIGINT AS f{k:02d}"
                  for k in range(1, MONTHS + 1))

    def s(ks: list[int], shift: int = 0) -> str:
        return "(" + " + ".join(f"f{k + shift:02d}" for k in ks) + ")"

    kept = w.last12
    x = {k: 12.0 - k for k in kept}
    xb = sum(x.values()) / len(kept)
    sxx = sum((v - xb) ** 2 for v in x.values())
    coef: dict[int, float] = {}
    for k, terms in smoothed_terms(as_of, kept).items():
        for raw, c in terms.items():
            coef[raw] = coef.get(raw, 0.0) + c * (x[k] - xb) / sxx
    series = smoothed_terms(as_of, kept)
    ordered = sorted(series, reverse=True)
    drops = [f"CASE WHEN ({_lin(series[a])}) > 0 THEN ({_lin(series[b])}) / ({_lin(series[a])})"
             f" - 1 END" for a, b in pairwise(ordered)]
    months12 = ", ".join(f"f{k:02d}" for k in range(1, 13))
    r, p = w.recent3, w.prior3

    def growth(shift: int) -> str:
        return (f"CASE WHEN {s(p, shift)} > 0 THEN ({s(r, shift)}::DOUBLE / {len(r)}) / "
                f"({s(p, shift)}::DOUBLE / {len(p)}) - 1 END")

    return f"""
WITH monthly AS (
  SELECT fixmedins_code, {m} - (year(setl_date) * 12 + month(setl_date) - 1) AS o,
         sum(fund_pay_sumamt_fen) AS fund, sum(medfee_sumamt_fen) AS medfee,
         sum(hifp_pay_fen) AS hifp, sum(acct_pay_fen) AS acct, sum(psn_cash_pay_fen) AS cash,
         sum(setl_cnt) AS setl_cnt, sum(refd_setl_cnt) AS refd_cnt
  FROM settlement_facts WHERE setl_date >= DATE '{lo}' AND setl_date < DATE '{hi}'
  GROUP BY ALL),
piv AS (
  SELECT fixmedins_code, {f},
    count(*) FILTER (WHERE o <= 12) AS present_12m,
    coalesce(sum(medfee) FILTER (WHERE o <= 3), 0)::BIGINT AS medfee_3m_fen,
    coalesce(sum(medfee) FILTER (WHERE o <= 6), 0)::BIGINT AS medfee_6m_fen,
    coalesce(sum(medfee) FILTER (WHERE o <= 12), 0)::BIGINT AS medfee_12m_fen,
    coalesce(sum(hifp) FILTER (WHERE o <= 12), 0)::BIGINT AS hifp_12m,
    coalesce(sum(acct) FILTER (WHERE o <= 12), 0)::BIGINT AS acct_12m,
    coalesce(sum(cash) FILTER (WHERE o <= 12), 0)::BIGINT AS cash_12m,
    coalesce(sum(setl_cnt) FILTER (WHERE o <= 12), 0)::BIGINT AS setl_cnt_12m,
    coalesce(sum(refd_cnt) FILTER (WHERE o <= 12), 0)::BIGINT AS refd_cnt_12m
  FROM monthly GROUP BY ALL),
hist AS (
  SELECT fixmedins_code, min(setl_date) FILTER (WHERE setl_date < DATE '{hi}') AS first_date,
         max(setl_date) AS last_date
  FROM settlement_facts WHERE setl_date <= DATE '{as_of}' GROUP BY ALL),
ev AS (
  SELECT fixmedins_code, count(*) FILTER (WHERE evt_type = 'penalty') AS pen,
         count(*) FILTER (WHERE evt_type = 'suspension') AS sus
  FROM institution_events
  WHERE evt_date BETWEEN DATE '{as_of - timedelta(days=730)}' AND DATE '{as_of}' GROUP BY ALL),
j AS (
  SELECT i.*, p.* EXCLUDE (fixmedins_code), h.first_date, h.last_date,
         coalesce(e.pen, 0) AS pen, coalesce(e.sus, 0) AS sus,
         list_filter([{months12}], lambda v: v > 0) AS pos
  FROM institutions i LEFT JOIN piv p USING (fixmedins_code)
  LEFT JOIN hist h USING (fixmedins_code) LEFT JOIN ev e USING (fixmedins_code)),
g AS (
  SELECT *, {growth(0)} AS g_now, {growth(12)} AS g_ly,
         CASE WHEN {s(kept)} > 0 THEN ({_lin(coef)}) / ({s(kept)}::DOUBLE / {len(kept)}) END
           AS slope,
         least({", ".join(drops)}) AS worst
  FROM j)
SELECT fixmedins_code,
  CASE WHEN first_date IS NULL THEN 0
       ELSE least(24, {m} - (year(first_date) * 12 + month(first_date) - 1)) END
    AS months_of_history,
  coalesce({s([1, 2, 3])}, 0) AS fund_pay_3m_fen, coalesce({s(list(range(1, 7)))}, 0)
    AS fund_pay_6m_fen, coalesce({s(list(range(1, 13)))}, 0) AS fund_pay_12m_fen,
  coalesce(medfee_3m_fen, 0) AS medfee_3m_fen, coalesce(medfee_6m_fen, 0) AS medfee_6m_fen,
  coalesce(medfee_12m_fen, 0) AS medfee_12m_fen, coalesce(setl_cnt_12m, 0) AS setl_cnt_12m,
  coalesce(refd_cnt_12m, 0) AS refd_setl_cnt_12m,
  CASE WHEN {s([k + 12 for k in kept])} > 0
       THEN {s(kept)}::DOUBLE / {s([k + 12 for k in kept])} - 1 END AS growth_yoy_12m,
  CASE WHEN {s([k + 12 for k in r])} > 0
       THEN {s(r)}::DOUBLE / {s([k + 12 for k in r])} - 1 END AS growth_3m_yoy,
  g_now AS growth_3m_over_prior_3m,
  CASE WHEN g_ly > -1 THEN (g_now + 1) / (g_ly + 1) - 1 END AS growth_3m_over_prior_3m_yoy_adj,
  slope AS trend_slope_12m,
  worst AS worst_mom_drop_12m,
  CASE WHEN f01 IS NULL THEN 12 ELSE len(list_filter([{months12}], lambda v: v <= 0)) END
    AS zero_months_12m,
  12 - coalesce(present_12m, 0) AS missing_months_12m,
  DATE '{as_of}' - last_date AS days_since_last_settlement,
  CASE WHEN setl_cnt_12m > 0 THEN refd_cnt_12m / setl_cnt_12m END AS refund_ratio,
  CASE WHEN medfee_12m_fen > 0 THEN {s(list(range(1, 13)))} / medfee_12m_fen END
    AS fund_share_12m,
  CASE WHEN medfee_12m_fen > 0 THEN hifp_12m / medfee_12m_fen END AS pooled_fund_share_12m,
  CASE WHEN medfee_12m_fen > 0 THEN acct_12m / medfee_12m_fen END AS acct_share_12m,
  CASE WHEN medfee_12m_fen > 0 THEN cash_12m / medfee_12m_fen END AS cash_share_12m,
  pen AS penalties_24m, sus AS suspensions_24m, pen + sus AS penalties_or_suspensions_24m,
  cred_lv_name,
  CASE WHEN fixmedins_type = '2' THEN 'pharmacy'
       WHEN fixmedins_type = '1' AND coalesce(hosp_lv, '') IN ('一级', '二级', '三级')
         THEN 'hospital'
       WHEN fixmedins_type = '1' THEN 'clinic' ELSE 'other' END AS institution_type,
  fixmedins_type, hosp_lv, ownership, biz_stas,
  (year(DATE '{as_of}') - year(begntime)) * 12 + ({as_of.month} - month(begntime))
    - CASE WHEN day(begntime) > {as_of.day} THEN 1 ELSE 0 END AS months_since_designation,
  {", ".join(f"coalesce(f{k:02d}, 0) AS fund_pay_m{k:02d}_fen" for k in range(1, 13))},
  CASE WHEN len(pos) >= 2 THEN list_stddev_pop(pos) / list_avg(pos) END AS cv_12m
FROM g
"""


# --- pandas ---------------------------------------------------------------------------------------


def pandas_features(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    w = Windows.for_date(as_of)
    m = month_index(as_of)
    facts = t["settlement_facts"]
    d = pd.to_datetime(facts["setl_date"])
    mi = d.dt.year * 12 + d.dt.month - 1
    sel = (mi >= m - MONTHS) & (mi < m)
    f = facts.loc[sel, ["fixmedins_code", "fund_pay_sumamt_fen", "medfee_sumamt_fen",
                        "hifp_pay_fen", "acct_pay_fen", "psn_cash_pay_fen", "setl_cnt",
                        "refd_setl_cnt"]].assign(o=m - mi[sel])
    monthly = f.groupby(["fixmedins_code", "o"]).sum()
    fund = monthly["fund_pay_sumamt_fen"].unstack("o").reindex(
        columns=range(1, MONTHS + 1)).fillna(0).astype("int64")
    last12 = monthly[monthly.index.get_level_values("o") <= 12].groupby(level=0).sum()
    present = monthly[monthly.index.get_level_values("o") <= 12].groupby(level=0).size()
    inst = t["institutions"].set_index("fixmedins_code")
    codes = inst.index
    fund = fund.reindex(codes).fillna(0).astype("int64")
    last12 = last12.reindex(codes).fillna(0).astype("int64")
    out = pd.DataFrame(index=codes)
    v = fund.to_numpy(dtype=np.float64)  # column j = offset j + 1

    def cols(ks: list[int]) -> np.ndarray:
        out: np.ndarray = fund[ks].sum(axis=1).to_numpy()
        return out

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 0, a.astype(np.float64) / b - 1, np.nan)

    before = d.dt.date < month_start(m)
    upto = d.dt.date <= as_of
    hist = pd.DataFrame({"code": facts["fixmedins_code"], "mi": mi, "d": d})
    first = hist[before].groupby("code")["mi"].min().reindex(codes)
    last = hist[upto].groupby("code")["d"].max().reindex(codes)
    out["months_of_history"] = np.where(first.isna(), 0,
                                        np.minimum(24, m - first.fillna(0))).astype("int64")
    for n in (3, 6, 12):
        out[f"fund_pay_{n}m_fen"] = cols(list(range(1, n + 1)))
    mf = monthly["medfee_sumamt_fen"]
    for n in (3, 6, 12):
        out[f"medfee_{n}m_fen"] = mf[mf.index.get_level_values("o") <= n].groupby(
            level=0).sum().reindex(codes).fillna(0).astype("int64")
    out["setl_cnt_12m"] = last12["setl_cnt"]
    out["refd_setl_cnt_12m"] = last12["refd_setl_cnt"]
    kept, r, p = w.last12, w.recent3, w.prior3
    out["growth_yoy_12m"] = ratio(cols(kept), cols([k + 12 for k in kept]))
    out["growth_3m_yoy"] = ratio(cols(r), cols([k + 12 for k in r]))
    with np.errstate(divide="ignore", invalid="ignore"):
        g_now = ratio(cols(r) / len(r), cols(p) / len(p))
        g_ly = ratio(cols([k + 12 for k in r]) / len(r), cols([k + 12 for k in p]) / len(p))
        out["growth_3m_over_prior_3m"] = g_now
        out["growth_3m_over_prior_3m_yoy_adj"] = np.where(g_ly > -1, (g_now + 1) / (g_ly + 1)
                                                          - 1, np.nan)
        series = smoothed_terms(as_of, kept)
        sm = {k: sum(c * v[:, raw - 1] for raw, c in tm.items()) for k, tm in series.items()}
        x = {k: 12.0 - k for k in kept}
        xb = sum(x.values()) / len(kept)
        sxx = sum((a - xb) ** 2 for a in x.values())
        slope = sum((x[k] - xb) * sm[k] for k in kept) / sxx
        mean = cols(kept) / len(kept)
        out["trend_slope_12m"] = np.where(mean > 0, slope / mean, np.nan)
        v12 = v[:, :12]
        pos = v12 > 0
        npos = pos.sum(axis=1)
        mu = np.where(pos, v12, 0).sum(axis=1) / npos
        var = np.where(pos, (v12 - mu[:, None]) ** 2, 0).sum(axis=1) / npos
        out["cv_12m"] = np.where(npos >= 2, np.sqrt(var) / mu, np.nan)
        ordered = sorted(sm, reverse=True)
        drops = np.column_stack([np.where(sm[a] > 0, sm[b] / sm[a] - 1, np.nan)
                                 for a, b in pairwise(ordered)])
        out["worst_mom_drop_12m"] = np.nanmin(np.where(np.isnan(drops), np.inf, drops), axis=1)
        out.loc[np.isinf(out["worst_mom_drop_12m"]), "worst_mom_drop_12m"] = np.nan
        out["zero_months_12m"] = (v12 <= 0).sum(axis=1)
        out["missing_months_12m"] = 12 - present.reindex(codes).fillna(0).astype("int64")
        out["days_since_last_settlement"] = (pd.Timestamp(as_of) - last).dt.days.astype("Int64")
        s12 = last12["setl_cnt"].to_numpy()
        out["refund_ratio"] = np.where(s12 > 0, last12["refd_setl_cnt"] / s12, np.nan)
        med = out["medfee_12m_fen"].to_numpy()
        for name, num in (("fund_share_12m", out["fund_pay_12m_fen"]),
                          ("pooled_fund_share_12m", last12["hifp_pay_fen"]),
                          ("acct_share_12m", last12["acct_pay_fen"]),
                          ("cash_share_12m", last12["psn_cash_pay_fen"])):
            out[name] = np.where(med > 0, num.to_numpy() / med, np.nan)
    ev = t["institution_events"]
    ev = ev[(ev["evt_date"] >= as_of - timedelta(days=730)) & (ev["evt_date"] <= as_of)]
    counts = ev.groupby(["fixmedins_code", "evt_type"]).size().unstack(fill_value=0)
    for name, kind in (("penalties_24m", "penalty"), ("suspensions_24m", "suspension")):
        out[name] = (counts[kind] if kind in counts else pd.Series(dtype="int64")).reindex(
            codes).fillna(0).astype("int64")
    out["penalties_or_suspensions_24m"] = out["penalties_24m"] + out["suspensions_24m"]
    out["cred_lv_name"] = inst["cred_lv_name"]
    hosp = inst["hosp_lv"].fillna("").isin(["一级", "二级", "三级"])
    out["institution_type"] = np.select(
        [inst["fixmedins_type"] == "2", (inst["fixmedins_type"] == "1") & hosp,
         inst["fixmedins_type"] == "1"], ["pharmacy", "hospital", "clinic"], "other")
    for c in ("fixmedins_type", "hosp_lv", "ownership", "biz_stas"):
        out[c] = inst[c]
    b = pd.to_datetime(inst["begntime"])
    out["months_since_designation"] = ((as_of.year - b.dt.year) * 12 + (as_of.month - b.dt.month)
                                       - (b.dt.day > as_of.day)).astype("Int64")
    for k in range(1, 13):
        out[f"fund_pay_m{k:02d}_fen"] = fund[k]
    return out.reset_index()


# --- online: one institution per call, on the application's schema ---------------------------


def _load_app_db(url: str, data: dict[str, pa.Table]) -> None:
    """The generated tables into a migrated application database (amounts already fen)."""
    from sqlalchemy import create_engine, text

    now = "2026-01-01 09:00:00+08:00"
    facts = data["settlement_facts"].append_column(
        "source_msgid", pa.array(["bench"] * data["settlement_facts"].num_rows))
    inst = data["institutions"]
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO institutions (fixmedins_code, fixmedins_name, uscc, fixmedins_type, "
            "hosp_lv, ownership, biz_stas, cred_lv_name, begntime, updated_at) VALUES (:c, :c, "
            ":u, :t, :h, :o, :b, :g, :d, :n)"),
            [{"c": r["fixmedins_code"], "u": "91210200MA" + r["fixmedins_code"][-8:],
              "t": r["fixmedins_type"], "h": r["hosp_lv"], "o": r["ownership"],
              "b": r["biz_stas"], "g": r["cred_lv_name"], "d": r["begntime"], "n": now}
             for r in inst.to_pylist()])
        c.execute(text(
            "INSERT INTO institution_events (fixmedins_code, evt_type, evt_date, evt_desc, "
            "source_msgid) VALUES (:fixmedins_code, :evt_type, :evt_date, '', 'bench')"),
            data["institution_events"].to_pylist())
        cols = facts.column_names
        if engine.dialect.name == "postgresql":
            driver = c.connection.driver_connection
            with driver.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                    f"COPY settlement_facts ({', '.join(cols)}) FROM STDIN") as cp:
                for row in zip(*(facts[n].to_pylist() for n in cols), strict=True):
                    cp.write_row(row)
        else:
            c.execute(text(f"INSERT INTO settlement_facts ({', '.join(cols)}) VALUES "
                           f"({', '.join(':' + n for n in cols)})"), facts.to_pylist())
        c.execute(text("ANALYZE"))
    engine.dispose()


def online_latency(url: str, n: int, calls: int) -> dict[str, Any]:
    """Per-call latency of ``engines.institution_features`` on an open session (as the
    decision service calls it): one compile for the day, then ``calls`` calls for random
    institutions, each in its own short transaction, committed."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    data = generate(n, seed=2)
    _load_app_db(url, data)
    codes = data["institutions"]["fixmedins_code"].to_pylist()
    engine = create_engine(url)
    engines.clear_cache()
    rng = np.random.default_rng(3)
    with Session(engine) as s:
        t0 = time.perf_counter()
        engines.institution_features(s, fixmedins_code=codes[0], as_of=AS_OF)
        first = time.perf_counter() - t0
    times = []
    for i in rng.integers(0, n, size=calls):
        with Session(engine) as s:
            t0 = time.perf_counter()
            f = engines.institution_features(s, fixmedins_code=codes[int(i)], as_of=AS_OF)
            times.append(time.perf_counter() - t0)
            assert f["months_of_history"] > 0
            # As the decision's unit of work does. (A rollback would make psycopg deallocate
            # its prepared statements; the next call on that connection prepares again.)
            s.commit()
    engine.dispose()
    ms = np.array(times) * 1000
    return {"first_s": first, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "max": float(ms.max()), "calls": calls,
            "n": n, "rows": data["settlement_facts"].num_rows}


def online_on_postgres(admin_url: str, n: int, calls: int) -> dict[str, Any]:
    """``online_latency`` in a scratch PostgreSQL database, migrated, dropped afterwards."""
    from yibaodai.db.migrate import upgrade

    with scratch_database(admin_url) as url:
        upgrade(url)
        return online_latency(url, n, calls)


def online_on_sqlite(n: int, calls: int) -> dict[str, Any]:
    from yibaodai.db.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        return online_latency(url, n, calls)


# --- running ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def rows_of(table: Any) -> list[dict[str, Any]]:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    rows = table.to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and math.isnan(v):
                r[k] = None
    return sorted(rows, key=lambda r: r["fixmedins_code"])


def disagreements(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> int:
    bad = 0
    for x, y in zip(a, b, strict=True):
        for c in INT_COLUMNS + TEXT_COLUMNS:
            bad += (None if x[c] is None else x[c]) != (None if y[c] is None else y[c])
        for c in FLOAT_COLUMNS:
            u, v = x[c], y[c]
            if u is None or v is None:
                bad += (u is None) != (v is None)
            else:
                bad += not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12)
    return bad


def machine() -> list[str]:
    facts = machine_facts(packages=("ibis-framework", "sqlglot", "duckdb", "pandas", "numpy",
                                    "pyarrow", "pyspark"))
    java = os.popen("java -version 2>&1").read().splitlines()[:1]
    return [*(f"- {k}: {v}" for k, v in facts.items()), f"- java: {java}"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--institutions", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--postgres-url", default=os.environ.get("YIBAODAI_TEST_POSTGRES_URL"),
                    help="server for the online latency (a scratch database is created)")
    ap.add_argument("--online-institutions", type=int, default=100)
    ap.add_argument("--online-calls", type=int, default=1000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = generate(args.institutions)
    gen_s = time.perf_counter() - t0
    n_rows = data["settlement_facts"].num_rows
    print(f"generated {n_rows:,} daily rows for {args.institutions:,} institutions "
          f"in {gen_s:.1f} s")

    con = engines.duckdb_backend(data)
    results: list[tuple[str, float, str]] = []
    # Cold: what one call cost before the compiled SQL was cached (build + compile + run).
    engines.clear_cache()
    t0 = time.perf_counter()
    ibis_out = engines.duckdb_arrow(con, as_of=AS_OF)
    cold_s = time.perf_counter() - t0

    def recompile() -> Any:
        engines.clear_cache()
        return engines.compiled(AS_OF, "duckdb")

    compile_s, compiled_sql = timed(recompile, args.repeat)
    reference = rows_of(ibis_out)
    print(f"ibis/duckdb cold {cold_s:.2f} s (expression build + compile {compile_s:.2f} s, "
          f"{len(compiled_sql.sql):,} characters of SQL)")

    raw = duckdb.connect()
    for name, table in data.items():
        raw.register(f"{name}_arrow", table)
        raw.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    sql = hand_sql(AS_OF)
    # Side by side, interleaved (the machine is shared): the cached Ibis SQL and the hand SQL.
    ibis_s = hand_s = math.inf
    hand_out: Any = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ibis_out = engines.duckdb_arrow(con, as_of=AS_OF)
        ibis_s = min(ibis_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        hand_out = raw.sql(sql).to_arrow_table()
        hand_s = min(hand_s, time.perf_counter() - t0)
    bad = disagreements(reference, rows_of(ibis_out))
    results.append(("Ibis on DuckDB, compiled SQL cached (run only)", ibis_s,
                     f"{bad} differing values (reference: first call)"))
    results.append(("Ibis on DuckDB, first call of the day (build + compile + run)", cold_s,
                     "reference"))
    bad = disagreements(reference, rows_of(hand_out.select(list(reference[0]))))
    results.append(("hand-written DuckDB SQL", hand_s, f"{bad} differing values"))
    print(f"ibis/duckdb cached {ibis_s:.2f} s; hand sql {hand_s:.2f} s, {bad} differing values")

    frames = {k: v.to_pandas() for k, v in data.items()}
    pandas_s, pandas_out = timed(lambda: pandas_features(frames, AS_OF), args.repeat)
    bad = disagreements(reference, rows_of(pandas_out[list(reference[0])]))
    results.append(("pandas (numpy, vectorised)", pandas_s, f"{bad} differing values"))
    print(f"pandas {pandas_s:.2f} s, {bad} differing values")

    if not args.no_spark:
        from pyspark.sql import SparkSession

        t0 = time.perf_counter()
        spark = (SparkSession.builder.master("local[*]").appName("features-bench")
                 .config("spark.ui.enabled", "false").config("spark.driver.memory", "6g")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.codegen.wholeStage", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        with tempfile.TemporaryDirectory() as tmp:
            frames_sp = {}
            for name, table in data.items():
                pq.write_table(table, f"{tmp}/{name}.parquet")
                frames_sp[name] = spark.read.parquet(f"{tmp}/{name}.parquet")
            scon = engines.spark_backend(spark, frames_sp)
            start_s = time.perf_counter() - t0
            engines.compiled(AS_OF, "pyspark")  # compile outside the timing, as for DuckDB
            spark_s, spark_out = timed(lambda: engines.compute_rows(scon, as_of=AS_OF),
                                       max(1, args.repeat - 1))
        bad = disagreements(reference, spark_out)
        spark.stop()
        results.append((f"Ibis on PySpark local[*] (session start {start_s:.0f} s not incl.)",
                        spark_s, f"{bad} differing values"))
        print(f"spark {spark_s:.2f} s, {bad} differing values")

    online: list[tuple[str, dict[str, Any]]] = []
    if args.postgres_url:
        res = online_on_postgres(args.postgres_url, args.online_institutions, args.online_calls)
        online.append(("PostgreSQL", res))
        print(f"online postgres p50 {res['p50']:.1f} ms p99 {res['p99']:.1f} ms")
    res = online_on_sqlite(args.online_institutions, args.online_calls)
    online.append(("SQLite", res))
    print(f"online sqlite p50 {res['p50']:.1f} ms p99 {res['p99']:.1f} ms")

    lines = [
        "# Benchmark: settlement features",
        "",
        f"Measured {date.today().isoformat()} with "
        f"`.venv/bin/python -m bench.features_bench --institutions {args.institutions} "
        f"--repeat {args.repeat}{' --no-spark' if args.no_spark else ''}` "
        f"(`YIBAODAI_TEST_POSTGRES_URL` set for the online part).",
        "",
        f"Data: {args.institutions:,} institutions x 3 years (2023-01-01..2025-12-31) of daily "
        f"summaries, {n_rows:,} rows of `settlement_facts` (two insurance lines per day, "
        f"integer fen), generated vectorised in {gen_s:.1f} s; features as of {AS_OF}. "
        f"Times are the best of the repeats, wall clock, data already loaded in the engine; "
        f"results are checked against the Ibis-on-DuckDB output (counts and fen sums exact, "
        f"ratios 1e-9 relative).",
        "",
        "| engine | seconds | vs hand SQL | agreement |",
        "|---|---:|---:|---|",
    ]
    for name, secs, note in results:
        lines.append(f"| {name} | {secs:.2f} | {secs / hand_s:.2f}x | {note} |")
    lines += [
        "",
        f"Building the expression and compiling it to DuckDB SQL takes {compile_s:.2f} s "
        f"({len(compiled_sql.sql):,} characters of SQL), independent of data size. It is now "
        f"paid once per `as_of` and dialect per process (`engines.compiled`, cached); every "
        f"later call only runs the SQL. Both numbers are in the table: the first call of the "
        f"day ({cold_s:.2f} s) and the cached run ({ibis_s:.2f} s), measured interleaved with "
        f"the hand-written SQL.",
        "",
        "Targets: Ibis on DuckDB at most 3 s: "
        f"**{'met' if cold_s <= 3 else 'missed'}** ({cold_s:.2f} s even with the compile); "
        f"within 2x of the hand-written SQL: "
        f"**{'met' if ibis_s <= 2 * hand_s else 'missed'}** ({ibis_s / hand_s:.2f}x cached; "
        f"{cold_s / hand_s:.2f}x counting the one-time compile).",
        "",
    ]
    for label, result in online:
        lines += [
            f"Online, {label}: `engines.institution_features(session, ...)` on the "
            f"application's migrated schema, {result['n']} institutions x 3 years "
            f"({result['rows']:,} daily rows), one institution per call in its own "
            f"(committed) transaction, {result['calls']} calls: **p50 {result['p50']:.1f} ms, p99 "
            f"{result['p99']:.1f} ms** (max {result['max']:.1f} ms); the first call of the "
            f"day, which compiles, {result['first_s'] * 1000:.0f} ms.",
            "",
        ]
    lines += [
        "Machine:",
        "",
        *machine(),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

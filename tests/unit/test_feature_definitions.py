"""The Ibis feature definitions on small hand-built data with known answers (run on DuckDB;
tests/integration/test_feature_parity.py shows the other engines agree)."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pytest

from yibaodai.features import engines
from yibaodai.features.definitions import Windows, kept_offsets
from yibaodai.sim.city import daily_settlements, generate_city

FACT_SCHEMA = pa.schema([
    ("fixmedins_code", pa.string()), ("setl_date", pa.date32()), ("setl_cnt", pa.int64()),
    ("refd_setl_cnt", pa.int64()), ("medfee_sumamt_fen", pa.int64()),
    ("fund_pay_sumamt_fen", pa.int64()), ("hifp_pay_fen", pa.int64()),
    ("acct_pay_fen", pa.int64()), ("psn_cash_pay_fen", pa.int64()),
])
INST_SCHEMA = pa.schema([
    ("fixmedins_code", pa.string()), ("fixmedins_type", pa.string()), ("hosp_lv", pa.string()),
    ("ownership", pa.string()), ("biz_stas", pa.string()), ("cred_lv_name", pa.string()),
    ("begntime", pa.date32()),
])
EVENT_SCHEMA = pa.schema([("fixmedins_code", pa.string()), ("evt_type", pa.string()),
                          ("evt_date", pa.date32())])


def fact(code: str, day: date, fund_yuan: int, *, cnt: int = 10, refd: int = 1) -> dict[str, Any]:
    """One day: medical fees twice the fund payment; of the fees 45% pooled fund, 20%
    personal account, 30% cash (the fund payment is 50%)."""
    fund = fund_yuan * 100
    medfee = 2 * fund
    return {"fixmedins_code": code, "setl_date": day, "setl_cnt": cnt, "refd_setl_cnt": refd,
            "medfee_sumamt_fen": medfee, "fund_pay_sumamt_fen": fund,
            "hifp_pay_fen": medfee * 45 // 100, "acct_pay_fen": medfee * 20 // 100,
            "psn_cash_pay_fen": medfee * 30 // 100}


def monthly(code: str, amounts: dict[str, int]) -> list[dict[str, Any]]:
    """One row on the 15th of each month ``YYYY-MM`` -> fund payment in yuan."""
    return [fact(code, date(int(m[:4]), int(m[5:]), 15), v) for m, v in amounts.items()]


def months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def institution(code: str, **kw: Any) -> dict[str, Any]:
    base = {"fixmedins_code": code, "fixmedins_type": "2", "hosp_lv": None,
            "ownership": "private", "biz_stas": "1", "cred_lv_name": "A",
            "begntime": date(2015, 1, 1)}
    return base | kw


def features(facts: list[dict[str, Any]], as_of: date, *,
             institutions: list[dict[str, Any]] | None = None,
             events: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    codes = sorted({f["fixmedins_code"] for f in facts})
    con = engines.duckdb_backend({
        "settlement_facts": pa.Table.from_pylist(facts, schema=FACT_SCHEMA),
        "institutions": pa.Table.from_pylist(institutions or [institution(c) for c in codes],
                                             schema=INST_SCHEMA),
        "institution_events": pa.Table.from_pylist(events or [], schema=EVENT_SCHEMA),
    })
    return {r["fixmedins_code"]: r for r in engines.batch_features(con, as_of=as_of)}


def test_flat_business_totals_means_and_recency() -> None:
    rows = monthly("A", dict.fromkeys(months("2024-09", "2026-08"), 1000))
    rows.append(fact("A", date(2026, 9, 5), 777))  # current month: not in any window
    f = features(rows, date(2026, 9, 10))["A"]
    assert f["months_of_history"] == 24
    assert f["fund_pay_3m"] == "3000.00" and f["fund_pay_12m"] == "12000.00"
    assert f["avg_monthly_fund_pay_6m"] == "1000.00" and f["avg_monthly_fund_pay_12m"] == "1000.00"
    assert f["medfee_12m"] == "24000.00" and f["avg_monthly_medfee_3m"] == "2000.00"
    assert f["growth_3m_over_prior_3m"] == 0.0 and f["growth_yoy_12m"] == 0.0
    assert f["growth_3m_yoy"] == 0.0 and f["growth_3m_over_prior_3m_yoy_adj"] == 0.0
    assert f["cv_12m"] == 0.0 and f["trend_slope_12m"] == pytest.approx(0.0, abs=1e-12)
    assert f["worst_mom_drop_12m"] == 0.0
    assert f["zero_months_12m"] == 0 and f["missing_months_12m"] == 0
    assert f["days_since_last_settlement"] == 5
    assert f["setl_cnt_12m"] == 120 and f["refd_setl_cnt_12m"] == 12
    assert f["refund_ratio"] == pytest.approx(0.1)
    assert f["fund_share_12m"] == pytest.approx(0.5)
    assert f["pooled_fund_share_12m"] == pytest.approx(0.45)
    assert f["acct_share_12m"] == pytest.approx(0.2)
    assert f["cash_share_12m"] == pytest.approx(0.3)
    assert f["monthly_fund_pay_12m"]["2026-08"] == "1000.00"
    assert list(f["monthly_fund_pay_12m"]) == months("2025-09", "2026-08")


def test_monthly_means_round_half_even_to_the_fen() -> None:
    rows = [fact("A", date(2026, 8, 1), 0) | {"fund_pay_sumamt_fen": 100_001}]
    f = features(rows, date(2026, 9, 1))["A"]
    assert f["fund_pay_3m"] == "1000.01"
    assert f["avg_monthly_fund_pay_3m"] == "333.34"  # 333.336..
    assert f["avg_monthly_fund_pay_6m"] == "166.67"  # 166.668..
    assert f["avg_monthly_fund_pay_12m"] == "83.33"  # 83.334..


def test_short_history_and_missing_and_zero_months() -> None:
    amounts = dict.fromkeys(months("2026-01", "2026-08"), 1000) | {"2026-03": 0}
    f = features(monthly("A", amounts), date(2026, 9, 1))["A"]
    assert f["months_of_history"] == 8
    assert f["missing_months_12m"] == 4  # 2025-09 .. 2025-12
    assert f["zero_months_12m"] == 5  # and March, settled with no fund payment
    assert f["growth_yoy_12m"] is None  # nothing a year earlier
    # CV over the positive months only; the drop from a zero month is not a ratio.
    assert f["cv_12m"] == 0.0
    assert f["worst_mom_drop_12m"] == -1.0  # February -> March


def test_no_settlement_at_all() -> None:
    f = features(monthly("A", {"2026-08": 1}), date(2026, 9, 1),
                 institutions=[institution("A"), institution("B")])["B"]
    assert f["months_of_history"] == 0 and f["fund_pay_12m"] == "0.00"
    assert f["days_since_last_settlement"] is None and f["refund_ratio"] is None
    assert f["cv_12m"] is None and f["growth_3m_over_prior_3m"] is None
    assert f["zero_months_12m"] == 12 and f["missing_months_12m"] == 12


def test_growth_year_over_year_and_trend() -> None:
    amounts = dict.fromkeys(months("2024-09", "2025-08"), 500)
    amounts |= dict.fromkeys(months("2025-09", "2026-02"), 1000)
    amounts |= dict.fromkeys(months("2026-03", "2026-05"), 1000)
    amounts |= dict.fromkeys(months("2026-06", "2026-08"), 600)
    f = features(monthly("A", amounts), date(2026, 9, 1))["A"]
    assert f["growth_3m_over_prior_3m"] == pytest.approx(-0.4)
    assert f["growth_3m_yoy"] == pytest.approx(0.2)
    assert f["growth_yoy_12m"] == pytest.approx((9 * 1000 + 3 * 600) / 6000 - 1)
    assert f["growth_3m_over_prior_3m_yoy_adj"] == pytest.approx(0.6 - 1)
    # 9 x 1000 and 3 x 600: population CV
    values = [1000] * 9 + [600] * 3
    mean = sum(values) / 12
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 12)
    assert f["cv_12m"] == pytest.approx(sd / mean)
    assert f["worst_mom_drop_12m"] == pytest.approx(-0.4)


def test_trend_slope_uses_the_january_february_average() -> None:
    # 100, 200, .., 1200 from 2025-09 to 2026-08: January (500) and February (600) both count
    # as 550, which moves the least-squares slope from 100 by -50/143 yuan per month.
    amounts = {m: 100 * (i + 1) for i, m in enumerate(months("2025-09", "2026-08"))}
    f = features(monthly("A", amounts), date(2026, 9, 1))["A"]
    assert f["trend_slope_12m"] == pytest.approx((100 - 50 / 143) / 650)
    assert f["worst_mom_drop_12m"] is None or f["worst_mom_drop_12m"] >= 0


def test_events_profile_and_designation() -> None:
    as_of = date(2026, 9, 10)
    rows = monthly("A", {"2026-08": 1}) + monthly("B", {"2026-08": 1}) + monthly(
        "C", {"2026-08": 1}) + monthly("D", {"2026-08": 1})
    insts = [
        institution("A", begntime=date(2020, 9, 11)),
        institution("B", fixmedins_type="1", hosp_lv="二级", begntime=date(2020, 9, 10),
                    cred_lv_name="C"),
        institution("C", fixmedins_type="1", hosp_lv="未定级", begntime=None, cred_lv_name=None),
        institution("D", fixmedins_type="9"),
    ]
    events = [
        {"fixmedins_code": "A", "evt_type": "penalty", "evt_date": as_of - timedelta(days=730)},
        {"fixmedins_code": "A", "evt_type": "penalty", "evt_date": as_of - timedelta(days=731)},
        {"fixmedins_code": "A", "evt_type": "suspension", "evt_date": as_of},
        {"fixmedins_code": "A", "evt_type": "suspension", "evt_date": as_of + timedelta(days=1)},
        {"fixmedins_code": "A", "evt_type": "restore", "evt_date": as_of},
        {"fixmedins_code": "B", "evt_type": "penalty", "evt_date": date(2026, 1, 1)},
    ]
    f = features(rows, as_of, institutions=insts, events=events)
    assert (f["A"]["penalties_24m"], f["A"]["suspensions_24m"]) == (1, 1)
    assert f["A"]["penalties_or_suspensions_24m"] == 2
    assert f["B"]["penalties_or_suspensions_24m"] == 1 and f["C"]["penalties_24m"] == 0
    assert f["A"]["months_since_designation"] == 71
    assert f["B"]["months_since_designation"] == 72
    assert f["C"]["months_since_designation"] is None
    assert [f[c]["institution_type"] for c in "ABCD"] == [
        "pharmacy", "hospital", "clinic", "other"]
    assert f["B"]["cred_lv_name"] == "C" and f["C"]["cred_lv_name"] is None


# --- Spring Festival ----------------------------------------------------------------------------


def test_a_window_never_holds_january_or_february_alone() -> None:
    assert Windows.for_date(date(2026, 2, 10)).recent3 == [2, 3]  # Nov, Dec (Jan dropped)
    may = Windows.for_date(date(2026, 5, 1))
    assert (may.recent3, may.prior3) == ([1, 2], [5, 6])  # Apr-Mar vs Dec-Nov
    assert Windows.for_date(date(2026, 8, 1)).prior3 == [4, 5]  # Mar-Apr (Feb dropped)
    assert Windows.for_date(date(2026, 3, 1)).recent3 == [1, 2, 3]  # Dec-Feb: pair kept
    assert kept_offsets(date(2026, 2, 1), list(range(1, 13))) == list(range(2, 12))


def test_a_festival_dip_moving_between_january_and_february_changes_nothing() -> None:
    """Flat 1000/month with a 30% festival dip each year: the features are the same whether
    the dip falls in January or in February, and growth that compares windows cut between
    January and February shows no change at all."""
    flat = dict.fromkeys(months("2022-01", "2026-08"), 1000)
    years = range(2022, 2027)
    in_january = monthly("J", flat | {f"{y}-01": 700 for y in years})
    in_february = monthly("F", flat | {f"{y}-02": 700 for y in years})
    actual = monthly("A", flat | {"2022-02": 700, "2023-01": 700, "2024-02": 700,
                                  "2025-01": 700, "2026-02": 700})  # the real dates
    keys = ("growth_3m_over_prior_3m", "growth_3m_yoy", "growth_yoy_12m",
            "growth_3m_over_prior_3m_yoy_adj", "trend_slope_12m", "worst_mom_drop_12m")
    for month in (1, 2, 3, 5, 8):  # February, May, August: a window edge cuts Jan|Feb
        for year in (2025, 2026):
            as_of = date(year, month, 1)
            f = features(in_january + in_february + actual, as_of)
            for key in keys:
                assert f["J"][key] == pytest.approx(f["F"][key], abs=1e-12), (as_of, key)
                assert f["A"][key] == pytest.approx(f["F"][key], abs=1e-12), (as_of, key)
            if month in (2, 5, 8):  # a window edge would cut January from February
                assert f["A"]["growth_3m_over_prior_3m"] == pytest.approx(0.0, abs=1e-12)
                assert f["A"]["growth_3m_yoy"] == pytest.approx(0.0, abs=1e-12)


def test_synthetic_city_growth_does_not_depend_on_where_the_festival_falls() -> None:
    """Stable institutions of the synthetic city with no growth and no own seasonality,
    summed: the festival was on 2025-01-29 and 2026-02-17. The same calendar ``as_of`` in both
    years gives nearly the same 3-over-prior-3 growth, where plain calendar months do not."""
    city = generate_city(seed=11, institutions=120, as_of=date(2026, 6, 30))
    stable = [dataclasses.replace(i, growth_rate=0.0, seasonal_amplitude=0.0)
              for i in city if i.archetype == "stable" and i.segment != "hospital"]
    days: dict[date, list[int]] = defaultdict(lambda: [0] * 7)
    for inst in stable:
        for r in daily_settlements(inst, seed=11, start=date(2024, 1, 1), end=date(2026, 8, 31)):
            acc = days[r.setl_date]
            acc[0] += r.setl_cnt
            acc[1] += r.refd_setl_cnt
            for j, v in enumerate((r.medfee_sumamt, r.fund_pay_sumamt, r.hifp_pay, r.acct_pay,
                                   r.psn_cash_pay), start=2):
                acc[j] += int(v * 100)
    cols = [c for c in FACT_SCHEMA.names if c not in ("fixmedins_code", "setl_date")]
    rows = [{"fixmedins_code": "CITY", "setl_date": d, **dict(zip(cols, v, strict=True))}
            for d, v in days.items()]
    by_month: dict[tuple[int, int], int] = defaultdict(int)
    for r in rows:
        by_month[(r["setl_date"].year, r["setl_date"].month)] += r["fund_pay_sumamt_fen"]

    def naive(as_of: date) -> float:
        idx = as_of.year * 12 + as_of.month - 1
        total = [by_month[divmod(idx - k, 12)[0], (idx - k) % 12 + 1] for k in range(1, 7)]
        return sum(total[:3]) / sum(total[3:]) - 1

    for month in (2, 5, 8):  # the as_of months where a window edge cuts January|February
        a25, a26 = date(2025, month, 1), date(2026, month, 1)
        g25 = features(rows, a25)["CITY"]["growth_3m_over_prior_3m"]
        g26 = features(rows, a26)["CITY"]["growth_3m_over_prior_3m"]
        assert abs(g26 - g25) < 0.015, (month, g25, g26)
        assert abs(g26 - g25) < abs(naive(a26) - naive(a25)), month
    for month in (2, 5):
        assert abs(naive(date(2026, month, 1)) - naive(date(2025, month, 1))) > 0.03

"""Settlement features, defined once as Ibis expressions.

The same expression runs on SQLite and PostgreSQL (online: one institution at decision time)
and on DuckDB and PySpark (batch: every institution). ``engines.py`` connects and runs it;
``docs/features.md`` describes every feature.

Shape of the computation (all engines):

1. ``monthly_facts``: daily facts -> one row per (institution, complete month before
   ``as_of``), keyed by the month's *offset* (1 = the last complete month, 24 = two years
   earlier). Money stays integer fen, so sums are exact everywhere.
2. ``institution_months``: a pivot of those rows into one row per institution with the fund
   payment of each of the 24 months (``f01``..``f24``) and the window totals.
3. ``feature_table``: institution profile + pivot + history + events -> features. Every
   window, weight and Spring Festival adjustment depends only on ``as_of``, so it is computed
   here in Python and enters the expression as constants; the engines only see sums,
   ``CASE`` expressions and arithmetic that every backend evaluates the same way.

Spring Festival: January and February of the same year are treated as one two-month block.
A window that holds both keeps them (the trend and drop features use their average for each);
a window that holds only one of them drops it, and growth compares monthly means over the
months kept (year-over-year: the same kept calendar months a year earlier). Where the festival
falls in either year then never moves income across a window boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from itertools import pairwise
from typing import Any

import ibis

#: Months of monthly data the features read (two years: YoY on 12-month windows).
MONTHS = 24
#: Window for penalties and suspensions (as the admission rule counts them: 730 days).
EVENT_WINDOW_DAYS = 730
#: Placeholder for "no value" inside ``least``: SQLite's ``MIN(a, NULL)`` is NULL while the
#: other engines skip NULLs, so NULLs never reach ``least``.
_NO_DROP = 1e300

AMOUNT_COLUMNS = (
    "medfee_sumamt_fen", "fund_pay_sumamt_fen", "hifp_pay_fen", "acct_pay_fen",
    "psn_cash_pay_fen",
)

Expr = Any  # Ibis ships no type information


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def calendar_month(as_of: date, offset: int) -> int:
    """1..12: the calendar month ``offset`` complete months before ``as_of``'s month."""
    return (month_index(as_of) - offset) % 12 + 1


def month_label(as_of: date, offset: int) -> str:
    m = month_start(month_index(as_of) - offset)
    return f"{m.year:04d}-{m.month:02d}"


def kept_offsets(as_of: date, offsets: Sequence[int]) -> list[int]:
    """The months of a window without an unpaired January or February (newest first)."""
    window = set(offsets)
    out = []
    for k in offsets:
        cal = calendar_month(as_of, k)
        if cal == 1 and k - 1 not in window:  # January without its February
            continue
        if cal == 2 and k + 1 not in window:  # February without its January
            continue
        out.append(k)
    return out


def smoothed_terms(as_of: date, kept: Sequence[int]) -> dict[int, dict[int, float]]:
    """For each kept month, its festival-smoothed value as weights of raw months: a January
    and February kept together each count as their average."""
    out: dict[int, dict[int, float]] = {}
    for k in kept:
        cal = calendar_month(as_of, k)
        if cal == 1:
            out[k] = {k: 0.5, k - 1: 0.5}
        elif cal == 2:
            out[k] = {k: 0.5, k + 1: 0.5}
        else:
            out[k] = {k: 1.0}
    return out


def col(k: int) -> str:
    return f"f{k:02d}"


def _fsum(t: Expr, ks: Sequence[int]) -> Expr:
    """Exact integer sum of the fund payment of months ``ks``."""
    return reduce(lambda a, b: a + b, [t[col(k)] for k in ks])


def _float(x: Expr) -> Expr:
    return x.cast("float64")


def _div(num: Expr, den: Expr) -> Expr:
    """num / den as float; NULL for a zero denominator on every engine (PostgreSQL would
    raise, DuckDB gives NULL, SQLite NULL, Spark NULL)."""
    return _float(num) / _float(den).nullif(0.0)


def _ratio(num: Expr, den: Expr) -> Expr:
    """num / den - 1 as float, NULL unless den > 0."""
    return ibis.ifelse(den > 0, _div(num, den) - 1.0, ibis.null("float64"))


def _int_sum(column: Expr, where: Expr | None = None) -> Expr:
    return column.sum(where=where).fill_null(0).cast("int64")


# --- step 1: months ---------------------------------------------------------------------------


def monthly_facts(facts: Expr, *, as_of: date, codes: Sequence[str] | None = None) -> Expr:
    """One row per (institution, complete month in the 24 before ``as_of``'s month)."""
    m = month_index(as_of)
    f = facts.filter(facts.setl_date >= month_start(m - MONTHS),
                     facts.setl_date < month_start(m))
    if codes is not None:
        f = f.filter(f.fixmedins_code.isin(list(codes)))
    f = f.mutate(offset=ibis.literal(m) - (f.setl_date.year() * 12 + f.setl_date.month() - 1))
    return f.group_by(["fixmedins_code", "offset"]).aggregate(
        fund=_int_sum(f.fund_pay_sumamt_fen),
        medfee=_int_sum(f.medfee_sumamt_fen),
        hifp=_int_sum(f.hifp_pay_fen),
        acct=_int_sum(f.acct_pay_fen),
        cash=_int_sum(f.psn_cash_pay_fen),
        setl_cnt=_int_sum(f.setl_cnt),
        refd_cnt=_int_sum(f.refd_setl_cnt),
    )


# --- step 2: one row per institution ----------------------------------------------------------


def institution_months(monthly: Expr) -> Expr:
    t = monthly
    aggs: dict[str, Expr] = {}
    for k in range(1, MONTHS + 1):
        aggs[col(k)] = _int_sum(t.fund, t.offset == k)
    aggs["present_12m"] = t.offset.count(where=t.offset <= 12).cast("int64")
    # For the coefficient of variation: how many of the last 12 months had a positive fund
    # payment, and their total. Aggregated here, so the mean is two columns in the final
    # projection instead of two 12-term sums inlined into each of the 24 variance terms.
    positive = (t.offset <= 12) & (t.fund > 0)
    aggs["pos_months_12m"] = t.offset.count(where=positive).cast("int64")
    aggs["pos_fund_12m"] = _int_sum(t.fund, positive)
    for w in (3, 6, 12):
        aggs[f"medfee_{w}m_fen"] = _int_sum(t.medfee, t.offset <= w)
    for name in ("hifp", "acct", "cash", "setl_cnt", "refd_cnt"):
        aggs[f"{name}_12m"] = _int_sum(t[name], t.offset <= 12)
    return t.group_by(t.fixmedins_code.name("m_code")).aggregate(**aggs)


def history(facts: Expr, *, as_of: date, codes: Sequence[str] | None = None) -> Expr:
    """First complete-month date and last settlement date up to ``as_of``."""
    f = facts.filter(facts.setl_date <= as_of)
    if codes is not None:
        f = f.filter(f.fixmedins_code.isin(list(codes)))
    start = month_start(month_index(as_of))
    return f.group_by(f.fixmedins_code.name("h_code")).aggregate(
        first_date=f.setl_date.min(where=f.setl_date < start),
        last_date=f.setl_date.max(),
    )


def event_counts(events: Expr, *, as_of: date, codes: Sequence[str] | None = None) -> Expr:
    e = events.filter(events.evt_date >= as_of - timedelta(days=EVENT_WINDOW_DAYS),
                      events.evt_date <= as_of)
    if codes is not None:
        e = e.filter(e.fixmedins_code.isin(list(codes)))
    return e.group_by(e.fixmedins_code.name("e_code")).aggregate(
        penalties=e.evt_type.count(where=e.evt_type == "penalty").cast("int64"),
        suspensions=e.evt_type.count(where=e.evt_type == "suspension").cast("int64"),
    )


# --- step 3: features -------------------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """Everything about the windows that depends only on ``as_of``."""

    as_of: date
    recent3: list[int]
    prior3: list[int]
    last12: list[int]

    @classmethod
    def for_date(cls, as_of: date) -> Windows:
        return cls(as_of, kept_offsets(as_of, [1, 2, 3]), kept_offsets(as_of, [4, 5, 6]),
                   kept_offsets(as_of, list(range(1, 13))))


def _growth_3m_over_prior(t: Expr, w: Windows, shift: int) -> tuple[Expr, Expr]:
    recent = _float(_fsum(t, [k + shift for k in w.recent3])) / len(w.recent3)
    prior = _float(_fsum(t, [k + shift for k in w.prior3])) / len(w.prior3)
    return recent, prior


def _smoothed(t: Expr, terms: dict[int, float]) -> Expr:
    parts = [_float(t[col(k)]) * c if c != 1.0 else _float(t[col(k)])
             for k, c in sorted(terms.items())]
    return reduce(lambda a, b: a + b, parts)


def _trend_slope(t: Expr, w: Windows) -> Expr:
    """OLS slope of the smoothed monthly series (x = month number) over the kept months of
    the last 12, divided by their mean: relative change per month."""
    kept = w.last12
    x = {k: float(12 - k) for k in kept}
    x_bar = sum(x.values()) / len(kept)
    sxx = sum((x[k] - x_bar) ** 2 for k in kept)
    coef: dict[int, float] = {}
    for k, terms in smoothed_terms(w.as_of, kept).items():
        for raw, c in terms.items():
            coef[raw] = coef.get(raw, 0.0) + c * (x[k] - x_bar) / sxx
    slope = reduce(lambda a, b: a + b,
                   [_float(t[col(k)]) * c for k, c in sorted(coef.items())])
    mean = _float(_fsum(t, kept)) / len(kept)
    return ibis.ifelse(mean > 0, _div(slope, mean), ibis.null("float64"))


def _worst_drop(t: Expr, w: Windows) -> Expr:
    """Most negative change between consecutive kept months (smoothed), NULL if none."""
    series = smoothed_terms(w.as_of, w.last12)
    ordered = sorted(series, reverse=True)  # oldest first: offset 12 .. 1
    drops = []
    for older, newer in pairwise(ordered):
        s_old, s_new = _smoothed(t, series[older]), _smoothed(t, series[newer])
        drops.append(ibis.ifelse(s_old > 0, _div(s_new, s_old) - 1.0, _NO_DROP))
    worst = ibis.least(*drops) if len(drops) > 1 else drops[0]
    return ibis.ifelse(worst < _NO_DROP, worst, ibis.null("float64"))


def _cv(t: Expr) -> Expr:
    """Population coefficient of variation of the positive months among the last 12."""
    months = [t[col(k)] for k in range(1, 13)]
    npos = t.pos_months_12m  # = Σ [v > 0] over the 12 months (institution_months)
    mean = _div(t.pos_fund_12m, npos)  # Σ v over those months (exact fen) / their count
    var = _div(reduce(lambda a, b: a + b, [
        ibis.ifelse(v > 0, (_float(v) - mean) * (_float(v) - mean), 0.0) for v in months
    ]), npos)
    return ibis.ifelse(npos >= 2, _div(var.sqrt(), mean), ibis.null("float64"))


def _months_between(start: Expr, as_of: date) -> Expr:
    whole = (as_of.year - start.year()) * 12 + (as_of.month - start.month())
    return whole - ibis.ifelse(start.day() > as_of.day, 1, 0)


def _segment(inst: Expr) -> Expr:
    hospital = inst.hosp_lv.fill_null("").isin(["一级", "二级", "三级"])
    return (ibis.cases(
        (inst.fixmedins_type == "2", "pharmacy"),
        ((inst.fixmedins_type == "1") & hospital, "hospital"),
        (inst.fixmedins_type == "1", "clinic"),
        else_="other",
    ))


def feature_table(facts: Expr, institutions: Expr, events: Expr, *, as_of: date,
                  codes: Sequence[str] | None = None) -> Expr:
    """One row per institution (of ``codes``, or all in ``institutions``): every feature.

    Amounts come out as integer fen (``*_fen``); ``engines.finalise`` turns them into yuan
    strings. Ratios are floats, counts integers."""
    w = Windows.for_date(as_of)
    inst = institutions
    if codes is not None:
        inst = inst.filter(inst.fixmedins_code.isin(list(codes)))
    pivot = institution_months(monthly_facts(facts, as_of=as_of, codes=codes))
    hist = history(facts, as_of=as_of, codes=codes)
    ev = event_counts(events, as_of=as_of, codes=codes)
    j = (inst.left_join(pivot, inst.fixmedins_code == pivot.m_code)
         .left_join(hist, inst.fixmedins_code == hist.h_code)
         .left_join(ev, inst.fixmedins_code == ev.e_code))
    base: dict[str, Expr] = {
        "fixmedins_code": j.fixmedins_code,
        "fixmedins_type": j.fixmedins_type, "hosp_lv": j.hosp_lv, "ownership": j.ownership,
        "biz_stas": j.biz_stas, "cred_lv_name": j.cred_lv_name,
        "institution_type": _segment(j),
        "begntime": j.begntime, "first_date": j.first_date, "last_date": j.last_date,
        "penalties_24m": j.penalties.fill_null(0), "suspensions_24m": j.suspensions.fill_null(0),
        "present_12m": j.present_12m.fill_null(0),
    }
    for k in range(1, MONTHS + 1):
        base[col(k)] = j[col(k)].fill_null(0)
    for name in ("medfee_3m_fen", "medfee_6m_fen", "medfee_12m_fen", "hifp_12m", "acct_12m",
                 "cash_12m", "setl_cnt_12m", "refd_cnt_12m", "pos_months_12m", "pos_fund_12m"):
        base[name] = j[name].fill_null(0)
    t = j.select(**base)

    m = month_index(as_of)
    first_idx = t.first_date.year() * 12 + t.first_date.month() - 1
    history_months = ibis.ifelse(t.first_date.isnull(), 0,
                                 ibis.least(ibis.literal(MONTHS), m - first_idx))
    fund = {n: _fsum(t, range(1, n + 1)) for n in (3, 6, 12)}
    recent, prior = _growth_3m_over_prior(t, w, 0)
    recent_ly, prior_ly = _growth_3m_over_prior(t, w, 12)
    growth_ly = _ratio(recent_ly, prior_ly)
    growth = _ratio(recent, prior)
    def share(x: Expr) -> Expr:
        return ibis.ifelse(t.medfee_12m_fen > 0, _div(x, t.medfee_12m_fen), ibis.null("float64"))

    out: dict[str, Expr] = {
        "fixmedins_code": t.fixmedins_code,
        "months_of_history": history_months.cast("int64"),
        "fund_pay_3m_fen": fund[3], "fund_pay_6m_fen": fund[6], "fund_pay_12m_fen": fund[12],
        "medfee_3m_fen": t.medfee_3m_fen, "medfee_6m_fen": t.medfee_6m_fen,
        "medfee_12m_fen": t.medfee_12m_fen,
        "setl_cnt_12m": t.setl_cnt_12m, "refd_setl_cnt_12m": t.refd_cnt_12m,
        "growth_yoy_12m": _ratio(_fsum(t, w.last12), _fsum(t, [k + 12 for k in w.last12])),
        "growth_3m_yoy": _ratio(_fsum(t, w.recent3), _fsum(t, [k + 12 for k in w.recent3])),
        "growth_3m_over_prior_3m": growth,
        "growth_3m_over_prior_3m_yoy_adj": ibis.ifelse(
            growth_ly > -1.0, (growth + 1.0) / (growth_ly + 1.0) - 1.0, ibis.null("float64")),
        "trend_slope_12m": _trend_slope(t, w),
        "cv_12m": _cv(t),
        "worst_mom_drop_12m": _worst_drop(t, w),
        "zero_months_12m": reduce(lambda a, b: a + b, [
            ibis.ifelse(t[col(k)] > 0, 0, 1) for k in range(1, 13)]).cast("int64"),
        "missing_months_12m": (12 - t.present_12m).cast("int64"),
        "days_since_last_settlement": ibis.literal(as_of).delta(t.last_date, unit="day")
        .cast("int64"),
        "refund_ratio": ibis.ifelse(t.setl_cnt_12m > 0, _div(t.refd_cnt_12m, t.setl_cnt_12m),
                                    ibis.null("float64")),
        "fund_share_12m": share(fund[12]),
        "pooled_fund_share_12m": share(t.hifp_12m),
        "acct_share_12m": share(t.acct_12m),
        "cash_share_12m": share(t.cash_12m),
        "penalties_24m": t.penalties_24m.cast("int64"),
        "suspensions_24m": t.suspensions_24m.cast("int64"),
        "penalties_or_suspensions_24m": (t.penalties_24m + t.suspensions_24m).cast("int64"),
        "cred_lv_name": t.cred_lv_name,
        "institution_type": t.institution_type,
        "fixmedins_type": t.fixmedins_type,
        "hosp_lv": t.hosp_lv,
        "ownership": t.ownership,
        "biz_stas": t.biz_stas,
        "months_since_designation": _months_between(t.begntime, as_of).cast("int64"),
    }
    for k in range(1, 13):
        out[f"fund_pay_m{k:02d}_fen"] = t[col(k)]
    return t.select(**out)


#: Output columns that are exact integers (fen amounts and counts).
INT_COLUMNS = (
    "months_of_history", "fund_pay_3m_fen", "fund_pay_6m_fen", "fund_pay_12m_fen",
    "medfee_3m_fen", "medfee_6m_fen", "medfee_12m_fen", "setl_cnt_12m", "refd_setl_cnt_12m",
    "zero_months_12m", "missing_months_12m", "days_since_last_settlement", "penalties_24m",
    "suspensions_24m", "penalties_or_suspensions_24m", "months_since_designation",
    *(f"fund_pay_m{k:02d}_fen" for k in range(1, 13)),
)
FLOAT_COLUMNS = (
    "growth_yoy_12m", "growth_3m_yoy", "growth_3m_over_prior_3m",
    "growth_3m_over_prior_3m_yoy_adj", "trend_slope_12m", "cv_12m", "worst_mom_drop_12m",
    "refund_ratio", "fund_share_12m", "pooled_fund_share_12m", "acct_share_12m",
    "cash_share_12m",
)
TEXT_COLUMNS = ("fixmedins_code", "cred_lv_name", "institution_type", "fixmedins_type",
                "hosp_lv", "ownership", "biz_stas")

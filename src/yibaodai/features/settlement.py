"""Settlement features from daily summaries, defined once as pure functions.

The walking skeleton computes them in Python from the daily rows of one institution; issue 4
moves the same definitions onto SQL and batch engines.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from yibaodai.domain.months import month_key, previous_months

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DailyAmounts:
    setl_date: date
    setl_cnt: int
    refd_setl_cnt: int
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal


def monthly_fund_pay(rows: Iterable[DailyAmounts]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for r in rows:
        key = month_key(r.setl_date)
        totals[key] = totals.get(key, ZERO) + r.fund_pay_sumamt
    return totals


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, ZERO) / len(values)).quantize(Decimal("0.01")) if values else ZERO


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def settlement_features(rows: list[DailyAmounts], *, as_of: date) -> dict[str, object]:
    """Features over complete months before ``as_of``. JSON-friendly: amounts as strings."""
    monthly = monthly_fund_pay(rows)
    last12 = previous_months(as_of, 12)
    last24 = previous_months(as_of, 24)
    series12 = [monthly.get(m, ZERO) for m in last12]
    months_with_data = [m for m in monthly if m < month_key(as_of)]
    first_month = min(months_with_data) if months_with_data else None
    history = sum(1 for m in last24 if first_month is not None and m >= first_month)
    recent3, prior3 = sum(series12[-3:], ZERO), sum(series12[-6:-3], ZERO)
    # Year over year on the same three calendar months, so a moving Spring Festival does not
    # look like growth or decline.
    last_year3 = sum((monthly.get(m, ZERO) for m in previous_months(as_of, 15)[:3]), ZERO)
    floats = [float(v) for v in series12 if v > 0]
    cv = statistics.pstdev(floats) / statistics.fmean(floats) if len(floats) >= 2 else None
    drops = [
        float((series12[i] - series12[i - 1]) / series12[i - 1])
        for i in range(1, len(series12)) if series12[i - 1] > 0
    ]
    last_date = max((r.setl_date for r in rows), default=None)
    total_cnt = sum(r.setl_cnt for r in rows)
    refunds = sum(r.refd_setl_cnt for r in rows)
    return {
        "as_of": as_of.isoformat(),
        "months_of_history": history,
        "fund_pay_12m": str(sum(series12, ZERO)),
        "avg_monthly_fund_pay_12m": str(_mean(series12)),
        "avg_monthly_fund_pay_6m": str(_mean(series12[-6:])),
        "growth_3m_over_prior_3m": _ratio(recent3 - prior3, prior3),
        "growth_3m_yoy": _ratio(recent3 - last_year3, last_year3),
        "cv_12m": cv,
        "worst_mom_drop_12m": min(drops) if drops else None,
        "zero_months_12m": sum(1 for v in series12 if v <= 0),
        "days_since_last_settlement": (as_of - last_date).days if last_date else None,
        "refund_ratio": refunds / total_cnt if total_cnt else None,
        "monthly_fund_pay_12m": {m: str(monthly.get(m, ZERO)) for m in last12},
    }

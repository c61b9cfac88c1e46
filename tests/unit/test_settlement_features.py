"""Settlement features from daily amounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from yibaodai.domain.months import previous_months
from yibaodai.features.settlement import DailyAmounts, settlement_features


def daily(start: date, end: date, amount: str) -> list[DailyAmounts]:
    out, d = [], start
    while d <= end:
        out.append(DailyAmounts(d, 10, 0, Decimal(amount) * 2, Decimal(amount)))
        d += timedelta(days=1)
    return out


def test_previous_months_are_the_complete_months_before_the_date() -> None:
    assert previous_months(date(2026, 3, 15), 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_flat_business_has_no_growth_and_full_history() -> None:
    f = settlement_features(daily(date(2024, 1, 1), date(2026, 8, 31), "1000.00"),
                            as_of=date(2026, 9, 1))
    assert f["months_of_history"] == 24
    assert f["zero_months_12m"] == 0
    assert abs(f["growth_3m_yoy"]) < 1e-9  # type: ignore[arg-type]
    assert f["days_since_last_settlement"] == 1
    assert f["monthly_fund_pay_12m"]["2026-08"] == "31000.00"  # type: ignore[index]


def test_a_recent_halving_shows_as_decline_and_a_worst_monthly_drop() -> None:
    rows = daily(date(2025, 1, 1), date(2026, 5, 31), "1000.00") + daily(
        date(2026, 6, 1), date(2026, 8, 31), "500.00")
    f = settlement_features(rows, as_of=date(2026, 9, 1))
    assert f["growth_3m_over_prior_3m"] < -0.45  # type: ignore[operator]
    assert f["worst_mom_drop_12m"] < -0.45  # type: ignore[operator]


def test_year_over_year_compares_the_same_calendar_months() -> None:
    # A Spring Festival dip in February of both years leaves year-over-year growth at zero.
    rows = [r for r in daily(date(2024, 11, 1), date(2026, 2, 28), "1000.00")
            if r.setl_date.month != 2 or r.setl_date.day > 14]
    f = settlement_features(rows, as_of=date(2026, 3, 1))
    assert abs(f["growth_3m_yoy"]) < 0.01  # type: ignore[arg-type]

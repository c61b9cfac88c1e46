"""The institution view computes its trend from monthly sums (one row per month, on its last
settlement day) instead of every daily row: the reference features must come out the same."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.features.settlement import DailyAmounts, month_key, settlement_features
from yibaodai.reports.institutions import Month
from yibaodai.sim.city import daily_settlements, generate_city

AS_OF = date(2026, 9, 1)
CITY = generate_city(seed=5, institutions=40, as_of=date(2026, 8, 31))


def monthly(rows: list[DailyAmounts]) -> list[DailyAmounts]:
    months: dict[str, list[DailyAmounts]] = {}
    for r in rows:
        months.setdefault(month_key(r.setl_date), []).append(r)
    return [Month(fund_pay=sum((r.fund_pay_sumamt for r in rs), Decimal(0)), hifp_pay=Decimal(0),
                  acct_pay=Decimal(0), psn_cash_pay=Decimal(0),
                  medfee=sum((r.medfee_sumamt for r in rs), Decimal(0)),
                  setl_cnt=sum(r.setl_cnt for r in rs),
                  refd_setl_cnt=sum(r.refd_setl_cnt for r in rs),
                  last_day=max(r.setl_date for r in rs)).as_daily() for rs in months.values()]


@settings(max_examples=25, deadline=None)
@given(inst=st.sampled_from(CITY), months_back=st.integers(min_value=1, max_value=27))
def test_monthly_sums_give_the_features_of_the_daily_rows(inst: object,
                                                          months_back: int) -> None:
    start = date(2026 - (months_back + 8) // 12, (8 - months_back) % 12 + 1, 1)
    rows = [DailyAmounts(r.setl_date, r.setl_cnt, r.refd_setl_cnt, r.medfee_sumamt,
                         r.fund_pay_sumamt)
            for r in daily_settlements(inst, seed=5, start=start,  # type: ignore[arg-type]
                                       end=date(2026, 8, 31))]
    assert settlement_features(monthly(rows), as_of=AS_OF) == settlement_features(
        rows, as_of=AS_OF)

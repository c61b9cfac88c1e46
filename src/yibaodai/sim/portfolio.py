"""The simulated loan portfolio with its outcomes: which borrowers deteriorate and default,
and when — the labels ``yibaodai ews evaluate`` scores the warning rules against. The rules
never see these labels; they see only the monthly settlement figures the bureau would send.

Default follows the banking convention of 90 days past due. A *deteriorating* institution
loses income over 90 days from ``deterioration_start`` and can no longer service the loan once
it has; it is 90 days past due about 180 days after the start. A *stopped* institution fades
for 90 days, stops settling on ``stopped_on`` and is 90 days past due 90 days later."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from yibaodai.domain.ews.evaluation import BorrowerRun, fired_codes, score_runs
from yibaodai.domain.ews.history import BorrowerHistory, MonthFigures
from yibaodai.domain.ews.rules import LEVEL_RANK, RULES_VERSION, evaluate
from yibaodai.domain.months import month_key
from yibaodai.sim.city import SyntheticInstitution, daily_settlements, generate_city

DETERIORATION_TO_DEFAULT_DAYS = 180
STOP_TO_DEFAULT_DAYS = 90
STOP_FADE_DAYS = 90


@dataclass(frozen=True)
class LabelledBorrower:
    code: str
    archetype: str
    deteriorates_from: date | None  # first day income starts to fall for good
    defaults_on: date | None  # 90 days past due
    designation_end: date  # the loan runs no longer than the designation
    months: dict[str, MonthFigures]
    settlement_days: tuple[date, ...]  # sorted days with any settlement

    def history(self, as_of: date) -> BorrowerHistory:
        """What the bank would know on ``as_of``: complete months before it, last settlement."""
        cut = month_key(as_of)
        i = bisect_left(self.settlement_days, as_of)
        return BorrowerHistory(
            months={m: f for m, f in self.months.items() if m < cut},
            last_settlement=self.settlement_days[i - 1] if i else None)


def label(inst: SyntheticInstitution) -> tuple[date | None, date | None]:
    """(deteriorates_from, defaults_on) of one institution, from its hidden behaviour."""
    if inst.deterioration_start is not None:
        return inst.deterioration_start, inst.deterioration_start + timedelta(
            days=DETERIORATION_TO_DEFAULT_DAYS)
    if inst.stopped_on is not None:
        return inst.stopped_on - timedelta(days=STOP_FADE_DAYS), inst.stopped_on + timedelta(
            days=STOP_TO_DEFAULT_DAYS)
    return None, None


def labelled_portfolio(*, seed: int, institutions: int, as_of: date, start: date,
                       end: date) -> list[LabelledBorrower]:
    """Every established institution of the simulated city (new ones have too little history
    to lend on) with monthly figures from ``start`` to ``end`` and its labels."""
    out: list[LabelledBorrower] = []
    for inst in generate_city(seed=seed, institutions=institutions, as_of=as_of):
        if inst.archetype == "new":
            continue
        acc: dict[str, list[Decimal | int]] = {}
        days: set[date] = set()
        for row in daily_settlements(inst, seed=seed, start=start, end=end):
            a = acc.setdefault(month_key(row.setl_date), [Decimal(0), 0, 0, Decimal(0)])
            a[0] += row.fund_pay_sumamt
            a[1] += row.setl_cnt
            a[2] += row.refd_setl_cnt
            if row.insutype == "310":
                a[3] += row.fund_pay_sumamt
            days.add(row.setl_date)
        months = {m: MonthFigures(float(a[0]), int(a[1]), int(a[2]),
                                  round(float(Decimal(a[3]) / Decimal(a[0])), 4) if a[0] else None)
                  for m, a in acc.items()}
        worse, default = label(inst)
        out.append(LabelledBorrower(inst.fixmedins_code, inst.archetype, worse, default,
                                    inst.endtime, months,
                                    tuple(sorted(days))))
    return out




def _first_days(first: date, last: date) -> list[date]:
    out, year, month = [], first.year, first.month
    while date(year, month, 1) <= last:
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def portfolio_runs(portfolio: list[LabelledBorrower], *, first: date, last: date,
                   floor: int = 1) -> list[BorrowerRun]:
    """The monthly run (on the 1st of each month from ``first`` to ``last``) of every rule over
    every borrower, as the bank would run it. A borrower that defaulted before the window or
    defaults after it is left out (it is neither a hit nor a healthy borrower); a healthy one
    is watched until 60 days before its designation ends (no loan runs past it)."""
    days = _first_days(first, last)
    window = (month_key(days[0]), month_key(days[-1]))
    runs: list[BorrowerRun] = []
    for b in portfolio:
        default = month_key(b.defaults_on) if b.defaults_on else None
        if default is not None and not window[0] <= default <= window[1]:
            continue
        months: list[str] = []
        fired: list[frozenset[str]] = []
        for day in days:
            if default is not None and month_key(day) > default:
                break
            if default is None and (b.designation_end - day).days < 60:
                break
            months.append(month_key(day))
            fired.append(fired_codes(evaluate(b.history(day), day, record=False),
                                     levels=LEVEL_RANK, floor=floor))
        runs.append(BorrowerRun(b.code, months, fired,
                                month_key(b.deteriorates_from) if b.deteriorates_from else None,
                                default))
    return runs


def evaluate_portfolio(*, seed: int = 7, institutions: int = 300,
                       as_of: date = date(2026, 8, 31)) -> dict[str, Any]:
    """``yibaodai ews evaluate``: the simulated city as of ``as_of`` with three years of
    history before the window and a year after; monthly runs from 9 months before ``as_of``
    to 12 months after, scored against the labels."""
    start = date(as_of.year - 3, as_of.month, 1)
    first = date(as_of.year - 1, as_of.month, 1) + timedelta(days=92)
    end = date(as_of.year + 1, as_of.month, 1)
    portfolio = labelled_portfolio(seed=seed, institutions=institutions, as_of=as_of,
                                   start=start, end=end + timedelta(days=30))
    runs = portfolio_runs(portfolio, first=first.replace(day=1), last=end)
    report = score_runs(runs)
    report.update(seed=seed, institutions=institutions, as_of=as_of.isoformat(),
                  window=[runs[0].months[0] if runs else None, month_key(end)],
                  rules_version=RULES_VERSION)
    return report


__all__ = ["LabelledBorrower", "evaluate_portfolio", "label", "labelled_portfolio",
           "portfolio_runs"]

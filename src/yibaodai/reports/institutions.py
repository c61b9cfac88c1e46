"""The institution view for department managers and above: monthly settlement income with its
12-month mean and the fund mix, the trend (the reference feature definitions of
``features.settlement``), the bureau's events, fund disbursements, reconciliation flags, and
the institution's cases and decisions. Scoped through ``Scope.visible_institution_with``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, select
from sqlalchemy.orm import Session

from yibaodai.admission.service import segment_of
from yibaodai.auth.roles import Actor
from yibaodai.db.models import (
    CaseRow,
    DataQualityFlagRow,
    DecisionRow,
    FundDisbursementRow,
    InstitutionEventRow,
    SettlementMonthRow,
)
from yibaodai.db.session import core_rows
from yibaodai.domain.months import previous_months
from yibaodai.features.settlement import DailyAmounts, settlement_features
from yibaodai.reports.case_detail import (
    InstitutionOut,
    audit_personal_view,
    institution_out,
    unmasked_fields,
)
from yibaodai.reports.formatting import labelled
from yibaodai.reports.labels import CASE_STATES, DECISION_RESULTS, EVENT_TYPES, name
from yibaodai.reports.masking import MaskingRules
from yibaodai.reports.schema import Labelled, Out
from yibaodai.reports.scope import Scope

ZERO = Decimal("0.00")
#: Months of data the trend features read (24 of history and 3 for the year-over-year).
TREND_MONTHS = 27
TREND_KEYS = ("months_of_history", "avg_monthly_fund_pay_12m", "avg_monthly_fund_pay_6m",
              "growth_3m_over_prior_3m", "growth_3m_yoy", "cv_12m", "worst_mom_drop_12m",
              "zero_months_12m", "days_since_last_settlement", "refund_ratio")


class MonthOut(Out):
    month: str
    fund_pay: str
    hifp_pay: str
    other_fund_pay: str
    acct_pay: str
    psn_cash_pay: str
    medfee: str
    setl_cnt: int
    rolling_mean_12m: str | None


class EventOut(Out):
    evt_date: date
    evt_type: str
    evt_type_zh: str
    evt_type_en: str
    evt_desc: str
    evt_amt: str | None


class DisbursementOut(Out):
    fin_acen_time: datetime
    dfr_id: str
    dfr_sumamt: str
    clr_type: str
    setlym: str


class FlagOut(Out):
    id: int
    kind: str
    period_begin: date
    period_end: date
    details: dict[str, Any]
    raised_at: datetime
    resolved_at: datetime | None


class InstitutionCase(Out):
    id: int
    state: str
    state_zh: str
    state_en: str
    sub_branch_code: str
    credit_limit: str


class DecisionBrief(Out):
    id: int
    decided_at: datetime
    result: str
    result_zh: str
    result_en: str
    credit_limit: str


class InstitutionView(Out):
    institution: InstitutionOut
    months: list[MonthOut]
    mean_12m: str
    trend: list[Labelled]
    events: list[EventOut]
    disbursements: list[DisbursementOut]
    reconciliation_flags: list[FlagOut]
    cases: list[InstitutionCase]
    decisions: list[DecisionBrief]


#: One institution's months (``code``, ``since`` and ``before`` as ``YYYY-MM``, bound at
#: execution) from the sums ingestion keeps: built once, as every statement of this view.
_MONTHLY = (select(SettlementMonthRow.month, SettlementMonthRow.fund_pay_sumamt,
                   SettlementMonthRow.hifp_pay, SettlementMonthRow.acct_pay,
                   SettlementMonthRow.psn_cash_pay, SettlementMonthRow.medfee_sumamt,
                   SettlementMonthRow.setl_cnt, SettlementMonthRow.refd_setl_cnt,
                   SettlementMonthRow.last_setl_date)
            .where(SettlementMonthRow.fixmedins_code == bindparam("code"),
                   SettlementMonthRow.month >= bindparam("since"),
                   SettlementMonthRow.month < bindparam("before")))


@dataclass(frozen=True)
class Month:
    """One month of an institution's settlement, summed in the database."""

    fund_pay: Decimal
    hifp_pay: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    medfee: Decimal
    setl_cnt: int
    refd_setl_cnt: int
    last_day: date

    def as_daily(self) -> DailyAmounts:
        """The month as one daily row on its last settlement day: the reference features
        (``features.settlement``) sum by month and take the latest day, so they come out the
        same from these rows as from every daily row, at a sixtieth of the rows read."""
        return DailyAmounts(self.last_day, self.setl_cnt, self.refd_setl_cnt, self.medfee,
                            self.fund_pay)


def monthly_totals(session: Session, code: str, *, since: date, before: date) -> dict[str, Month]:
    """``code``'s months from ``since``'s to the one before ``before``'s, from the monthly
    sums ingestion keeps (``settlement_months``), not from the daily rows."""
    rows = core_rows(session, _MONTHLY, {"code": code, "since": f"{since:%Y-%m}",
                                         "before": f"{before:%Y-%m}"})
    return {month: Month(fund_pay=fund, hifp_pay=hifp, acct_pay=acct, psn_cash_pay=cash,
                         medfee=medfee, setl_cnt=cnt, refd_setl_cnt=refd, last_day=last)
            for month, fund, hifp, acct, cash, medfee, cnt, refd, last in rows}


EMPTY = Month(ZERO, ZERO, ZERO, ZERO, ZERO, 0, 0, date.min)


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, ZERO) / len(values)).quantize(Decimal("0.01")) if values else ZERO


@dataclass(frozen=True)
class BureauRecords:
    """The bureau's records of an institution the view lists, newest first (200 of each)."""

    events: list[Row[Any]]
    disbursements: list[Row[Any]]
    flags: list[Row[Any]]


_E, _D, _F = InstitutionEventRow, FundDisbursementRow, DataQualityFlagRow
#: Which of the bureau's three kinds of record an institution (``code``) has at all: asked
#: with the institution itself (``Scope.visible_institution_with``).
HAS_RECORDS = (exists().where(_E.fixmedins_code == bindparam("code")).label("has_events"),
               exists().where(_D.fixmedins_code == bindparam("code")).label("has_disbursements"),
               exists().where(_F.fixmedins_code == bindparam("code")).label("has_flags"))
#: Each kind newest first, 200 at most, only the columns the view prints.
_EVENTS = (select(_E.evt_date, _E.evt_type, _E.evt_desc, _E.evt_amt)
           .where(_E.fixmedins_code == bindparam("code"))
           .order_by(_E.evt_date.desc()).limit(200))
_DISBURSEMENTS = (select(_D.fin_acen_time, _D.dfr_id, _D.dfr_sumamt, _D.clr_type, _D.setlym)
                  .where(_D.fixmedins_code == bindparam("code"))
                  .order_by(_D.fin_acen_time.desc()).limit(200))
_FLAGS = (select(_F.id, _F.kind, _F.period_begin, _F.period_end, _F.details, _F.raised_at,
                 _F.resolved_at)
          .where(_F.fixmedins_code == bindparam("code")).order_by(_F.id.desc()).limit(200))


def bureau_records(session: Session, code: str, *, has_events: bool, has_disbursements: bool,
                   has_flags: bool) -> BureauRecords:
    """Only the kinds the institution has at all are read (``HAS_RECORDS``: most
    institutions have none, so no statement instead of three)."""
    at = {"code": code}
    return BureauRecords(
        events=list(session.execute(_EVENTS, at).all()) if has_events else [],
        disbursements=list(session.execute(_DISBURSEMENTS, at).all())
        if has_disbursements else [],
        flags=list(session.execute(_FLAGS, at).all()) if has_flags else [])


def _months(totals: dict[str, Month], window: list[str], fund: list[Decimal],
            months: int) -> list[MonthOut]:
    """The last ``months`` of ``window`` with their mix and 12-month rolling mean (None
    until 12 months of data exist); ``fund``: the fund pay of each month of ``window``."""
    first_data = min(totals, default=window[-1])
    out = []
    for n in range(len(window) - months, len(window)):
        m, t = window[n], totals.get(window[n], EMPTY)
        out.append(MonthOut(
            month=m, fund_pay=f"{t.fund_pay:.2f}", hifp_pay=f"{t.hifp_pay:.2f}",
            other_fund_pay=f"{t.fund_pay - t.hifp_pay:.2f}", acct_pay=f"{t.acct_pay:.2f}",
            psn_cash_pay=f"{t.psn_cash_pay:.2f}", medfee=f"{t.medfee:.2f}",
            setl_cnt=t.setl_cnt,
            rolling_mean_12m=f"{_mean(fund[n - 11:n + 1]):.2f}" if window[n - 11] >= first_data
            else None))
    return out


@lru_cache(maxsize=64)
def _cases_statement(scope: Scope) -> Select[Any]:
    c = CaseRow
    return scope.cases(select(c.id, c.state, c.sub_branch_code,
                              c.credit_limit.label("credit_limit"))
                       .where(c.fixmedins_code == bindparam("code"))).order_by(c.id)


def _cases(session: Session, actor: Actor, code: str) -> list[InstitutionCase]:
    """The institution's cases in the viewer's scope: the four columns shown, no full rows."""
    rows = core_rows(session, _cases_statement(Scope.of(actor)), {"code": code})
    return [InstitutionCase(id=r.id, state=r.state, state_zh=name(CASE_STATES, r.state)[0],
                            state_en=name(CASE_STATES, r.state)[1],
                            sub_branch_code=r.sub_branch_code,
                            credit_limit=f"{r.credit_limit:.2f}") for r in rows]


#: The institution's decisions, newest first: id, date, result and limit only (never the
#: JSON inputs and reasons of each, which this view does not print).
_DECISIONS = (select(DecisionRow.id, DecisionRow.decided_at, DecisionRow.result,
                     DecisionRow.credit_limit.label("credit_limit"))
              .where(DecisionRow.fixmedins_code == bindparam("code"))
              .order_by(DecisionRow.id.desc()))


def _decisions(session: Session, code: str) -> list[DecisionBrief]:
    return [DecisionBrief(id=r.id, decided_at=r.decided_at, result=r.result,
                          result_zh=name(DECISION_RESULTS, r.result)[0],
                          result_en=name(DECISION_RESULTS, r.result)[1],
                          credit_limit=f"{r.credit_limit:.2f}")
            for r in core_rows(session, _DECISIONS, {"code": code})]


def institution_view(session: Session, *, actor: Actor, code: str, months: int, today: date,
                     rules: MaskingRules, now: datetime) -> InstitutionView:
    """Everything the institution view shows; unknown and out-of-scope codes raise NotFound.
    Ends the unit of work: the view's audit row is committed before the page is answered."""
    inst, *has = Scope.of(actor).visible_institution_with(session, code, HAS_RECORDS)
    # 11 more months for the first rolling mean; at least the 27 the trend features read
    window = previous_months(today, max(months + 11, TREND_MONTHS))
    totals = monthly_totals(session, code, since=date.fromisoformat(window[0] + "-01"),
                            before=today.replace(day=1))
    features = settlement_features([totals[m].as_daily() for m in window[-TREND_MONTHS:]
                                    if m in totals], as_of=today)
    fund = [totals[m].fund_pay if m in totals else ZERO for m in window]
    bureau = bureau_records(session, code, has_events=has[0], has_disbursements=has[1],
                            has_flags=has[2])
    view = InstitutionView(
        institution=institution_out(inst, actor=actor, rules=rules, segment=segment_of(inst)),
        months=_months(totals, window, fund, months), mean_12m=f"{_mean(fund[-12:]):.2f}",
        trend=[Labelled.model_validate(labelled(k, features.get(k))) for k in TREND_KEYS],
        events=[EventOut(evt_date=e.evt_date, evt_type=e.evt_type,
                         evt_type_zh=name(EVENT_TYPES, e.evt_type)[0],
                         evt_type_en=name(EVENT_TYPES, e.evt_type)[1], evt_desc=e.evt_desc,
                         evt_amt=None if e.evt_amt is None else f"{e.evt_amt:.2f}")
                for e in bureau.events],
        disbursements=[DisbursementOut(fin_acen_time=d.fin_acen_time, dfr_id=d.dfr_id,
                                       dfr_sumamt=f"{d.dfr_sumamt:.2f}", clr_type=d.clr_type,
                                       setlym=d.setlym) for d in bureau.disbursements],
        reconciliation_flags=[FlagOut.model_validate(f) for f in bureau.flags],
        cases=_cases(session, actor, code), decisions=_decisions(session, code))
    # last, once every read is done: the append holds the audit chain's lock until it commits
    audit_personal_view(session, actor=actor, target=f"institution:{code}",
                        fields=unmasked_fields(inst, actor=actor, rules=rules), now=now)
    return view

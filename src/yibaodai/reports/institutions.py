"""The institution view for department managers and above: monthly settlement income with its
12-month mean and the fund mix, the trend (the reference feature definitions of
``features.settlement``), the bureau's events, fund disbursements, reconciliation flags, and
the institution's cases and decisions. Scoped through ``Scope.visible_institution``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
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
    m = SettlementMonthRow
    rows = session.execute(
        select(m.month, m.fund_pay_sumamt, m.hifp_pay, m.acct_pay, m.psn_cash_pay,
               m.medfee_sumamt, m.setl_cnt, m.refd_setl_cnt, m.last_setl_date)
        .where(m.fixmedins_code == code, m.month >= f"{since:%Y-%m}",
               m.month < f"{before:%Y-%m}")).all()
    return {month: Month(fund_pay=fund, hifp_pay=hifp, acct_pay=acct, psn_cash_pay=cash,
                         medfee=medfee, setl_cnt=cnt, refd_setl_cnt=refd, last_day=last)
            for month, fund, hifp, acct, cash, medfee, cnt, refd, last in rows}


EMPTY = Month(ZERO, ZERO, ZERO, ZERO, ZERO, 0, 0, date.min)


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, ZERO) / len(values)).quantize(Decimal("0.01")) if values else ZERO


def institution_view(session: Session, *, actor: Actor, code: str, months: int, today: date,
                     rules: MaskingRules, now: datetime) -> InstitutionView:
    inst = Scope.of(actor).visible_institution(session, code)
    # 11 more months for the first rolling mean; at least the 27 the trend features read
    window = previous_months(today, max(months + 11, TREND_MONTHS))
    totals = monthly_totals(session, code, since=date.fromisoformat(window[0] + "-01"),
                            before=today.replace(day=1))
    fund = [totals[m].fund_pay if m in totals else ZERO for m in window]
    out_months = []
    first_data = min(totals, default=window[-1])
    for n in range(len(window) - months, len(window)):
        m, t = window[n], totals.get(window[n], EMPTY)
        out_months.append(MonthOut(
            month=m, fund_pay=f"{t.fund_pay:.2f}", hifp_pay=f"{t.hifp_pay:.2f}",
            other_fund_pay=f"{t.fund_pay - t.hifp_pay:.2f}", acct_pay=f"{t.acct_pay:.2f}",
            psn_cash_pay=f"{t.psn_cash_pay:.2f}", medfee=f"{t.medfee:.2f}",
            setl_cnt=t.setl_cnt,
            rolling_mean_12m=f"{_mean(fund[n - 11:n + 1]):.2f}" if window[n - 11] >= first_data
            else None))
    features = settlement_features([totals[m].as_daily() for m in window[-TREND_MONTHS:]
                                    if m in totals], as_of=today)
    events = session.scalars(select(InstitutionEventRow).where(
        InstitutionEventRow.fixmedins_code == code).order_by(InstitutionEventRow.evt_date.desc())
        .limit(200)).all()
    disbursements = session.scalars(select(FundDisbursementRow).where(
        FundDisbursementRow.fixmedins_code == code)
        .order_by(FundDisbursementRow.fin_acen_time.desc()).limit(200)).all()
    flags = session.scalars(select(DataQualityFlagRow).where(
        DataQualityFlagRow.fixmedins_code == code).order_by(DataQualityFlagRow.id.desc())
        .limit(200)).all()
    cases = session.scalars(Scope.of(actor).cases(select(CaseRow).where(
        CaseRow.fixmedins_code == code)).order_by(CaseRow.id)).all()
    decisions = session.scalars(select(DecisionRow).where(DecisionRow.fixmedins_code == code)
                                .order_by(DecisionRow.id.desc())).all()
    view = InstitutionView(
        institution=institution_out(inst, actor=actor, rules=rules, segment=segment_of(inst)),
        months=out_months, mean_12m=f"{_mean(fund[-12:]):.2f}",
        trend=[Labelled.model_validate(labelled(k, features.get(k))) for k in TREND_KEYS],
        events=[EventOut(evt_date=e.evt_date, evt_type=e.evt_type,
                         evt_type_zh=name(EVENT_TYPES, e.evt_type)[0],
                         evt_type_en=name(EVENT_TYPES, e.evt_type)[1], evt_desc=e.evt_desc,
                         evt_amt=None if e.evt_amt is None else f"{e.evt_amt:.2f}")
                for e in events],
        disbursements=[DisbursementOut(fin_acen_time=d.fin_acen_time, dfr_id=d.dfr_id,
                                       dfr_sumamt=f"{d.dfr_sumamt:.2f}", clr_type=d.clr_type,
                                       setlym=d.setlym) for d in disbursements],
        reconciliation_flags=[FlagOut.model_validate(f) for f in flags],
        cases=[InstitutionCase(id=c.id, state=c.state, state_zh=name(CASE_STATES, c.state)[0],
                               state_en=name(CASE_STATES, c.state)[1],
                               sub_branch_code=c.sub_branch_code,
                               credit_limit=f"{c.credit_limit:.2f}") for c in cases],
        decisions=[DecisionBrief(id=d.id, decided_at=d.decided_at, result=d.result,
                                 result_zh=name(DECISION_RESULTS, d.result)[0],
                                 result_en=name(DECISION_RESULTS, d.result)[1],
                                 credit_limit=f"{d.credit_limit:.2f}") for d in decisions])
    # last, once every read is done: the append holds the audit chain's lock until commit
    audit_personal_view(session, actor=actor, target=f"institution:{code}",
                        fields=unmasked_fields(inst, actor=actor, rules=rules), now=now)
    return view

"""Loading settlement data from the operational store for the pure-Python features
(``features.settlement``): the one query every consumer of daily amounts goes through
(post-loan monitoring today)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import SettlementFactRow
from yibaodai.features.settlement import DailyAmounts


def load_daily(session: Session, code: str, since: date) -> list[DailyAmounts]:
    """The daily amounts of institution ``code`` from ``since`` on, in the caller's unit of
    work (facts stored in the same transaction count)."""
    rows = session.execute(
        select(SettlementFactRow.setl_date, SettlementFactRow.setl_cnt,
               SettlementFactRow.refd_setl_cnt, SettlementFactRow.medfee_sumamt,
               SettlementFactRow.fund_pay_sumamt)
        .where(SettlementFactRow.fixmedins_code == code, SettlementFactRow.setl_date >= since)
    ).all()
    return [DailyAmounts(*r) for r in rows]

"""``settlement_months`` kept beside the daily facts: each 8301 message adds the sums of the
rows it brings and takes away the sums of the stored rows it replaces (a resent day), month by
month, in the message's own transaction.

Why deltas and not summing the touched months again from the daily rows: a 20,000-row
message touches about 13 months of one institution, and summing them again read all 20,000
rows back (measured: ~100 ms, about a quarter of the message's whole processing); the deltas
are summed from the columns already in memory (~11 ms) and written as one upsert of ~13
rows. Amounts are integer fen, so the sums are exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import Date, Integer, String, column, delete, func, insert, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibaodai.db.models import SettlementFactRow, SettlementMonthRow
from yibaodai.db.months import month_text

#: The summed figures (``settlement_months``' columns), in this order: settlement count,
#: refund count, then the five amounts in fen (medical fee, fund, basic fund, personal
#: account, cash).
FIGURES = ("setl_cnt", "refd_setl_cnt", "medfee_sumamt_fen", "fund_pay_sumamt_fen",
           "hifp_pay_fen", "acct_pay_fen", "psn_cash_pay_fen")


@dataclass
class MonthDelta:
    """What one message changes in one institution-month: figures to add (negative for the
    rows it replaces) and the latest settlement day it brings."""

    figures: list[int]
    last_day: date


def month_deltas(codes: Sequence[str], days: Sequence[date],
                 figures: Sequence[Sequence[int]], *, sign: int = 1,
                 into: dict[tuple[str, str], MonthDelta] | None = None
                 ) -> dict[tuple[str, str], MonthDelta]:
    """Pure: rows given as columns (``figures`` holds one sequence per entry of ``FIGURES``)
    summed by (institution, ``YYYY-MM``), times ``sign``, added to ``into``. The last day is
    the latest day of the rows added; rows taken away (``sign`` -1) never move it, because
    a message only replaces days it brings again."""
    out = {} if into is None else into
    months = [(day.year, day.month) for day in days]
    start = 0
    # runs of rows of one institution-month (a message lists its days in order, so a run is
    # usually a whole month): each run is summed by slices, not row by row in Python
    for (code, (year, month)), run in groupby(zip(codes, months, strict=True)):
        end = start + sum(1 for _ in run)
        key = (code, f"{year:04d}-{month:02d}")
        delta = out.get(key)
        if delta is None:
            delta = out[key] = MonthDelta([0] * len(FIGURES), date.min)
        for k, values_of in enumerate(figures):
            delta.figures[k] += sign * sum(values_of[start:end])
        if sign > 0:
            delta.last_day = max(delta.last_day, *days[start:end])
        start = end
    return out


#: ``settlement_months`` as plain integer columns: the deltas are fen already (the model's
#: Money type would read them as yuan).
_MONTHS = table("settlement_months", column("fixmedins_code", String), column("month", String),
                column("last_setl_date", Date), *(column(name, Integer) for name in FIGURES))


#: Months per upsert statement (10 parameters each: within every engine's limit).
_UPSERT_ROWS = 500


def apply_month_deltas(session: Session, deltas: dict[tuple[str, str], MonthDelta]) -> None:
    """Add ``deltas`` to ``settlement_months`` (a missing month is inserted): one upsert for
    a message of one institution, more only for a message of very many institution-months."""
    dialect = session.get_bind().dialect.name
    rows = [{"fixmedins_code": code, "month": month, "last_setl_date": d.last_day,
             **dict(zip(FIGURES, d.figures, strict=True))}
            for (code, month), d in deltas.items()]
    latest = func.greatest if dialect == "postgresql" else func.max  # SQLite: scalar max()
    c = _MONTHS.c
    for lo in range(0, len(rows), _UPSERT_ROWS):
        stmt: Any = (postgresql.insert(_MONTHS) if dialect == "postgresql"
                     else sqlite.insert(_MONTHS)).values(rows[lo:lo + _UPSERT_ROWS])
        session.execute(stmt.on_conflict_do_update(
            index_elements=["fixmedins_code", "month"],
            set_={**{n: c[n] + stmt.excluded[n] for n in FIGURES},
                  "last_setl_date": latest(c.last_setl_date, stmt.excluded.last_setl_date)}))


def rebuild_settlement_months(session: Session) -> None:
    """Every month again from the daily facts (after a bulk load that wrote
    ``settlement_facts`` directly), in the caller's transaction."""
    f, m = SettlementFactRow, SettlementMonthRow
    session.execute(delete(m))
    month = month_text(f.setl_date, session.get_bind().dialect.name)
    session.execute(insert(m).from_select(
        [m.fixmedins_code, m.month, m.setl_cnt, m.refd_setl_cnt, m.medfee_sumamt,
         m.fund_pay_sumamt, m.hifp_pay, m.acct_pay, m.psn_cash_pay, m.last_setl_date],
        select(f.fixmedins_code, month, func.sum(f.setl_cnt), func.sum(f.refd_setl_cnt),
               func.sum(f.medfee_sumamt), func.sum(f.fund_pay_sumamt), func.sum(f.hifp_pay),
               func.sum(f.acct_pay), func.sum(f.psn_cash_pay), func.max(f.setl_date))
        .group_by(f.fixmedins_code, month)))

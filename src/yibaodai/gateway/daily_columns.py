"""The 8301 fast path: a whole message of daily summaries validated as columns (``parse_daily``),
with no object per row, for throughput; anything not in the bureau's plain form goes through
``validation.parse_rows``, which accepts the same messages and names every problem.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from yibaodai.domain.codes import validate_institution_code
from yibaodai.errors import YibaodaiError
from yibaodai.gateway.rows import (
    CLR_TYPES,
    DATE_RE,
    EARLIEST_DATE,
    INSUTYPES,
    MAX_DAILY_COUNT,
    MAX_ROWS,
    DailySummary,
)
from yibaodai.gateway.validation import parse_rows

# ------------------------------------------------------ 8301 as columns (throughput, no rows)

#: The 8301 fields in model order; the columns of ``DailyColumns`` follow it.
_DAILY_FIELDS = tuple(DailySummary.model_fields)
_DAILY_COLUMN_GETTERS = tuple(operator.itemgetter(name) for name in _DAILY_FIELDS)
#: One amount column in the canonical form the bureau sends (``to_jsonable`` of a Decimal
#: quantized to cents: always two decimals, e.g. ``"1234.50"``, ``"-0.50"``), one amount a
#: line. Each line is a subset of ``_AMOUNT_RE`` (at most 12 whole digits, so below 1e12), and
#: with exactly two decimals its value in fen is the line without the dot.
_CENTS_COLUMN_RE = re.compile(r"(?:-?[0-9]{1,12}\.[0-9]{2}\n)*+-?[0-9]{1,12}\.[0-9]{2}")


def _fen(amount: Decimal) -> int:
    """Decimal yuan (at most 2 decimals, as validated) -> integer fen, exactly."""
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"money has more than 2 decimals: {amount}")
    return int(fen)


@dataclass(frozen=True, eq=False)
class DailyColumns:
    """Validated 8301 rows as columns (row ``i`` is index ``i`` of every list), amounts in
    integer fen as ``settlement_facts`` stores them. Built by :func:`parse_daily`."""

    fixmedins_code: Sequence[str]
    setl_date: Sequence[date]
    insutype: Sequence[str]
    clr_type: Sequence[str]
    setl_cnt: Sequence[int]
    refd_setl_cnt: Sequence[int]
    medfee_sumamt_fen: Sequence[int]
    fund_pay_sumamt_fen: Sequence[int]
    hifp_pay_fen: Sequence[int]
    acct_pay_fen: Sequence[int]
    psn_cash_pay_fen: Sequence[int]

    def __len__(self) -> int:
        return len(self.setl_date)

    @classmethod
    def from_rows(cls, rows: Sequence[DailySummary]) -> DailyColumns:
        return cls(
            [r.fixmedins_code for r in rows], [r.setl_date for r in rows],
            [r.insutype for r in rows], [r.clr_type for r in rows],
            [r.setl_cnt for r in rows], [r.refd_setl_cnt for r in rows],
            [_fen(r.medfee_sumamt) for r in rows], [_fen(r.fund_pay_sumamt) for r in rows],
            [_fen(r.hifp_pay) for r in rows], [_fen(r.acct_pay) for r in rows],
            [_fen(r.psn_cash_pay) for r in rows])

    def rows(self) -> list[DailySummary]:
        """The same rows as validated models (slow; for tests and small callers)."""
        def yuan(fen: int) -> str:
            return format(Decimal(fen).scaleb(-2), "f")

        return [DailySummary.model_validate({
            "fixmedins_code": c, "setl_date": d.isoformat(), "insutype": i, "clr_type": t,
            "setl_cnt": n, "refd_setl_cnt": r, "medfee_sumamt": yuan(m),
            "fund_pay_sumamt": yuan(f), "hifp_pay": yuan(h), "acct_pay": yuan(a),
            "psn_cash_pay": yuan(p)})
            for c, d, i, t, n, r, m, f, h, a, p in zip(
                self.fixmedins_code, self.setl_date, self.insutype, self.clr_type,
                self.setl_cnt, self.refd_setl_cnt, self.medfee_sumamt_fen,
                self.fund_pay_sumamt_fen, self.hifp_pay_fen, self.acct_pay_fen,
                self.psn_cash_pay_fen, strict=True)]


def _all_of_type(values: Sequence[Any], kind: type) -> bool:
    return set(map(type, values)) == {kind}


def fast_daily_columns(payload: Any, *, envelope_code: str,
                       today: date | None) -> DailyColumns | None:
    """A whole 8301 ``input`` as validated columns when every row is in the plain form the
    bureau sends (exactly the model's keys; ASCII strings for codes and dates; amounts as
    strings with exactly two decimals; plain ints for counts) and the message passes every
    check ``parse_rows`` makes (rows, institution, dates against ``today``, the cross-field
    rule, which is checked in integer fen). Otherwise None: the caller then runs
    ``parse_rows``, which accepts the message or names every problem. Works column by column
    with C-level operations (sets, ``map``, one regular expression per amount column), no
    object per row. ``tests/unit/test_rows.py`` checks by fuzzing that it never accepts what
    ``parse_rows`` refuses and gives the same rows.

    Keys and values of accepted rows are the model's field names, ISO dates, code-set
    members, digits, ``.``, ``-`` and ints: no personal fields and no control characters, so
    ``parse_rows``' scans for those cannot fire on an accepted message."""
    if type(payload) is not dict or payload.keys() != {"data"}:
        return None
    data = payload["data"]
    if type(data) is not list or not 0 < len(data) <= MAX_ROWS:
        return None
    n = len(data)
    if not _all_of_type(data, dict) or set(map(len, data)) != {len(_DAILY_FIELDS)}:
        return None
    try:  # with exactly 11 keys each, all 11 present means exactly the model's keys
        columns = [list(map(get, data)) for get in _DAILY_COLUMN_GETTERS]
    except KeyError:
        return None
    codes, dates, insutypes, clr_types, setl_cnt, refd, *amounts = columns
    if (not _all_of_type(codes, str) or set(codes) != {envelope_code}
            or not _institution_code_ok(envelope_code)):
        return None
    if (not _all_of_type(insutypes, str) or not set(insutypes) <= INSUTYPES
            or not _all_of_type(clr_types, str) or not set(clr_types) <= CLR_TYPES):
        return None
    if not _all_of_type(dates, str):
        return None
    parsed: dict[str, date] = {}
    for text in set(dates):
        if not DATE_RE.fullmatch(text):
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        if day < EARLIEST_DATE or (today is not None and day > today):
            return None
        parsed[text] = day
    if (not _all_of_type(setl_cnt, int) or not _all_of_type(refd, int)
            or min(setl_cnt) < 0 or max(setl_cnt) > MAX_DAILY_COUNT
            or min(refd) < 0 or max(refd) > MAX_DAILY_COUNT
            or any(map(operator.gt, refd, setl_cnt))):
        return None
    fen: list[list[int]] = []
    for column in amounts:
        if not _all_of_type(column, str):
            return None
        text = "\n".join(column)
        # The count rules out a line break inside a value posing as two amounts.
        if text.count("\n") != n - 1 or not _CENTS_COLUMN_RE.fullmatch(text):
            return None
        fen.append(list(map(int, text.replace(".", "").split("\n"))))
    medfee, fund, hifp, acct, cash = fen
    # daily_problem in fen: |medfee - (fund + acct + cash)| <= 1 fen, hifp <= fund,
    # (refd <= setl_cnt above); any negative amount takes the full path.
    paid = map(operator.add, map(operator.add, fund, acct), cash)
    diffs = list(map(operator.sub, medfee, paid))
    if max(diffs) > 1 or min(diffs) < -1 or any(map(operator.gt, hifp, fund)):
        return None
    if min(map(min, fen)) < 0:  # refunds: the sign rules of every part (``daily_problem``)
        return None
    return DailyColumns(codes, list(map(parsed.__getitem__, dates)), insutypes, clr_types,
                        setl_cnt, refd, medfee, fund, hifp, acct, cash)


def _institution_code_ok(code: str) -> bool:
    try:
        return validate_institution_code(code) == code
    except YibaodaiError:
        return False


def parse_daily(payload: dict[str, Any], *, envelope_code: str,
                today: date | None = None) -> DailyColumns:
    """Validate an 8301 ``input`` like ``parse_rows`` (same acceptance, same refusals), as
    columns: the column fast path when the whole message is in the bureau's plain form, else
    ``parse_rows`` (which names every problem)."""
    columns = fast_daily_columns(payload, envelope_code=envelope_code, today=today)
    if columns is not None:
        return columns
    rows = parse_rows("8301", payload, envelope_code=envelope_code, today=today)
    return DailyColumns.from_rows([r for r in rows if isinstance(r, DailySummary)])

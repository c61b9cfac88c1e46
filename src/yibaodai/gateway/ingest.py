"""Applying validated bureau rows to the operational store, inside the caller's transaction."""

from __future__ import annotations

import itertools
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, delete, func, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from yibaodai.db.models import (
    AuthorizationRow,
    DataQualityFlagRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    ReconciliationTotalRow,
    SettlementFactRow,
)
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.gateway.daily_columns import DailyColumns
from yibaodai.gateway.months import FIGURES, apply_month_deltas, month_deltas
from yibaodai.gateway.rows import (
    AuthorizationGranted,
    AuthorizationRevoked,
    DailySummary,
    FundDisbursement,
    InstitutionEvent,
    InstitutionProfile,
    ReconciliationTotal,
)


def active_authorization(session: Session, code: str, on: date) -> AuthorizationRow | None:
    return session.scalars(
        select(AuthorizationRow).where(
            AuthorizationRow.fixmedins_code == code,
            AuthorizationRow.revoked_at.is_(None),
            AuthorizationRow.begndate <= on,
            AuthorizationRow.enddate >= on,
        ).order_by(AuthorizationRow.id.desc())
    ).first()


def require_authorization(session: Session, code: str, scope: str, on: date) -> None:
    auth = active_authorization(session, code, on)
    if auth is None or scope not in auth.auth_scope:
        raise ValidationFailed(
            "该机构未授权本行使用此类数据", "no valid authorization covers this data",
            code="not_authorized",
            fields=[FieldError("fixmedins_code",
                               f"fixmedins_code：{code} 在 {on} 无覆盖“{scope}”范围的有效授权",
                               f"fixmedins_code: {code} has no valid authorization for scope "
                               f"{scope!r} on {on}")],
        )


def grant(session: Session, row: AuthorizationGranted, now: datetime) -> None:
    if session.scalars(select(AuthorizationRow).where(
            AuthorizationRow.auth_no == row.auth_no)).first():
        raise ValidationFailed("授权编号已存在", "auth_no already exists", code="duplicate_auth",
                               fields=[FieldError("auth_no", f"auth_no：{row.auth_no} 已存在",
                                                  f"auth_no: {row.auth_no} already exists")])
    session.add(AuthorizationRow(
        auth_no=row.auth_no, fixmedins_code=row.fixmedins_code, uscc=row.uscc,
        fixmedins_name=row.fixmedins_name, auth_scope=list(row.auth_scope),
        begndate=row.begndate, enddate=row.enddate,
        granted_at=now,
    ))


def revoke(session: Session, row: AuthorizationRevoked, now: datetime) -> None:
    auth = session.scalars(select(AuthorizationRow).where(
        AuthorizationRow.auth_no == row.auth_no,
        AuthorizationRow.fixmedins_code == row.fixmedins_code)).first()
    if auth is None:
        raise ValidationFailed("授权不存在", "no such authorization", code="unknown_auth",
                               fields=[FieldError("auth_no", f"auth_no：该机构无授权 {row.auth_no}",
                                                  f"auth_no: no authorization {row.auth_no} "
                                                  "for this institution")])
    if auth.revoked_at is None:
        auth.revoked_at = now


def upsert_profile(session: Session, row: InstitutionProfile, now: datetime) -> None:
    inst = session.get(InstitutionRow, row.fixmedins_code)
    if inst is None:
        inst = InstitutionRow(fixmedins_code=row.fixmedins_code)
        session.add(inst)
    inst.fixmedins_name = row.fixmedins_name
    inst.uscc = row.uscc
    inst.fixmedins_type = row.fixmedins_type
    inst.hosp_lv = row.hosp_lv
    inst.area_code = row.fix_blng_admdvs
    inst.addr = row.addr
    inst.biz_stas = row.biz_stas
    inst.cred_lv_name = row.cred_lv_name
    inst.begntime = row.begntime
    inst.endtime = row.endtime
    inst.legrep_name = row.legrep_name
    inst.bankacct = row.bankacct
    inst.latitude = row.latitude
    inst.longitude = row.longitude
    inst.ownership = row.ownership
    inst.updated_at = now


def add_events(session: Session, rows: list[InstitutionEvent], msgid: str) -> None:
    session.add_all(InstitutionEventRow(
        fixmedins_code=r.fixmedins_code, evt_type=r.evt_type, evt_date=r.evt_date,
        evt_desc=r.evt_desc, evt_amt=r.evt_amt, source_msgid=msgid) for r in rows)


def refuse_repeated_rows(keys: Sequence[Hashable], *, rows_zh: str, rows_en: str,
                         key_zh: str, key_en: str) -> None:
    """Refuse a message in which a row repeats an earlier row's key, naming the first such
    row (``input.data[i]``) in both languages."""
    seen: set[Hashable] = set()
    for i, key in enumerate(keys):
        if key in seen:
            where = f"input.data[{i}]"
            raise ValidationFailed(
                f"同一报文中存在重复的{rows_zh}", f"duplicate {rows_en} in one message",
                code="duplicate_rows",
                fields=[FieldError(where, f"{where}：与前面的行{key_zh}相同",
                                   f"{where}: same {key_en} as an earlier row")])
        seen.add(key)


def add_daily_summaries(session: Session, rows: list[DailySummary], msgid: str) -> None:
    """A resent day replaces the earlier figures for that day (the bureau's correction)."""
    add_daily_columns(session, DailyColumns.from_rows(rows), msgid)


def add_daily_columns(session: Session, cols: DailyColumns, msgid: str) -> None:
    """``add_daily_summaries`` for rows validated as columns (``rows.parse_daily``)."""
    keys = list(zip(cols.fixmedins_code, cols.setl_date, cols.insutype, cols.clr_type,
                    strict=True))
    key_set = set(keys)
    if len(key_set) != len(keys):  # the set is needed anyway; name the row only if needed
        refuse_repeated_rows(keys, rows_zh="日汇总行", rows_en="daily rows",
                             key_zh="日期、险种、清算类别",
                             key_en="setl_date, insutype and clr_type")
    # Only keys that exist are deleted: one indexed range query per institution finds them
    # (a message carries one institution; resends are rare), instead of one probe per row.
    # Their figures (fen) are read too: the months lose what the replaced rows brought.
    f = SettlementFactRow.__table__.c
    replaced: list[tuple[Any, ...]] = []
    for code in set(cols.fixmedins_code):
        dates = [k[1] for k in key_set if k[0] == code]
        replaced.extend(tuple(row) for row in session.execute(
            select(f.fixmedins_code, f.setl_date, f.insutype, f.clr_type,
                   *(type_coerce(f[name], Integer) for name in FIGURES)).where(
                f.fixmedins_code == code, f.setl_date.between(min(dates), max(dates))))
            if (row[0], row[1], row[2], row[3]) in key_set)
    key_cols = tuple_(SettlementFactRow.fixmedins_code, SettlementFactRow.setl_date,
                      SettlementFactRow.insutype, SettlementFactRow.clr_type)
    key_list = sorted((r[0], r[1], r[2], r[3]) for r in replaced)
    for start in range(0, len(key_list), 500):
        session.execute(delete(SettlementFactRow).where(
            key_cols.in_(key_list[start:start + 500])))
    if session.get_bind().dialect.name == "postgresql":
        _copy_daily_columns(session, cols, msgid)
    else:
        _insert_daily_columns(session, cols, msgid)
    deltas = month_deltas(cols.fixmedins_code, cols.setl_date, (
        cols.setl_cnt, cols.refd_setl_cnt, cols.medfee_sumamt_fen, cols.fund_pay_sumamt_fen,
        cols.hifp_pay_fen, cols.acct_pay_fen, cols.psn_cash_pay_fen))
    if replaced:
        month_deltas([r[0] for r in replaced], [r[1] for r in replaced],
                     [[r[4 + k] for r in replaced] for k in range(len(FIGURES))], sign=-1,
                     into=deltas)
    apply_month_deltas(session, deltas)


def _insert_daily_columns(session: Session, cols: DailyColumns, msgid: str) -> None:
    """SQLite: one ``executemany`` of plain values on the session's connection (same
    transaction). The columns are validated already and amounts are integer fen, which is
    what the table stores (``db.types.Money``); dates go in as SQLAlchemy's SQLite ``DATE``
    stores them (ISO ``YYYY-MM-DD``). Going through the ORM types instead would turn every
    amount into a Decimal and back (five per row) and cost about as much as the rest of the
    message's processing."""
    if set(map(type, cols.setl_date)) != {date}:
        raise ValueError("settlement dates must be dates")
    session.flush()
    session.connection().exec_driver_sql(
        f"INSERT INTO settlement_facts ({_COPY_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        list(zip(cols.fixmedins_code, map(date.isoformat, cols.setl_date), cols.insutype,
                 cols.clr_type, cols.setl_cnt, cols.refd_setl_cnt, cols.medfee_sumamt_fen,
                 cols.fund_pay_sumamt_fen, cols.hifp_pay_fen, cols.acct_pay_fen,
                 cols.psn_cash_pay_fen, itertools.repeat(msgid, len(cols)), strict=True)))


_COPY_COLUMNS = ("fixmedins_code, setl_date, insutype, clr_type, setl_cnt, refd_setl_cnt, "
                 "medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
                 "psn_cash_pay_fen, source_msgid")
_COPY_CODE_RE = re.compile(r"[A-Za-z0-9]+")
#: Rows sent to PostgreSQL per ``COPY`` write: PostgreSQL parses one chunk while the next is
#: being formatted.
_COPY_CHUNK = 4000


def _copy_daily_columns(session: Session, cols: DailyColumns, msgid: str) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` on the session's own connection, so the rows commit
    or roll back with the rest of the message. Every value is validated ASCII (institution code
    ``[A-Z][0-9]{11}``, ISO dates, code-set members, integers, the msgid ``[A-Za-z0-9]{30}``),
    so the text format needs no escaping; this is asserted, not assumed (codes, insurance and
    clearing types are checked per distinct value; dates and ints format as ASCII)."""
    if not _COPY_CODE_RE.fullmatch(msgid) or not msgid.isascii():
        raise ValueError("msgid must be ASCII letters and digits")
    for value in {*cols.fixmedins_code, *cols.insutype, *cols.clr_type}:
        if type(value) is not str or not _COPY_CODE_RE.fullmatch(value):
            raise ValueError("codes must be ASCII letters and digits")
    for column in (cols.setl_cnt, cols.refd_setl_cnt, cols.medfee_sumamt_fen,
                   cols.fund_pay_sumamt_fen, cols.hifp_pay_fen, cols.acct_pay_fen,
                   cols.psn_cash_pay_fen):
        if set(map(type, column)) != {int}:
            raise ValueError("counts and amounts must be ints")
    if set(map(type, cols.setl_date)) != {date}:
        raise ValueError("settlement dates must be dates")
    session.flush()
    driver: Any = session.connection().connection.driver_connection
    n = len(cols)
    with driver.cursor() as cur, cur.copy(
            f"COPY settlement_facts ({_COPY_COLUMNS}) FROM STDIN") as copy:
        for lo in range(0, n, _COPY_CHUNK):
            hi = min(n, lo + _COPY_CHUNK)
            lines = map("\t".join, zip(
                cols.fixmedins_code[lo:hi], map(date.isoformat, cols.setl_date[lo:hi]),
                cols.insutype[lo:hi], cols.clr_type[lo:hi], map(str, cols.setl_cnt[lo:hi]),
                map(str, cols.refd_setl_cnt[lo:hi]), map(str, cols.medfee_sumamt_fen[lo:hi]),
                map(str, cols.fund_pay_sumamt_fen[lo:hi]), map(str, cols.hifp_pay_fen[lo:hi]),
                map(str, cols.acct_pay_fen[lo:hi]), map(str, cols.psn_cash_pay_fen[lo:hi]),
                itertools.repeat(msgid, hi - lo), strict=True))
            copy.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------ 8302 reconciliation

#: Amounts may differ by at most this much (yuan) before a flag is raised; counts not at all.
RECONCILIATION_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class DailySums:
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    setl_cnt: int
    refd_setl_cnt: int
    days: int


def daily_sums(session: Session, code: str, insutype: str, clr_type: str, begin: date,
               end: date) -> DailySums:
    """The summed daily facts (8301) of one institution, insurance and clearing type over
    ``begin..end`` inclusive (zeros when there are none)."""
    f = SettlementFactRow
    medfee, fund, acct, cnt, refd, days = session.execute(
        select(func.sum(f.medfee_sumamt), func.sum(f.fund_pay_sumamt), func.sum(f.acct_pay),
               func.sum(f.setl_cnt), func.sum(f.refd_setl_cnt), func.count())
        .where(f.fixmedins_code == code, f.insutype == insutype, f.clr_type == clr_type,
               f.setl_date.between(begin, end))).one()
    zero = Decimal("0.00")
    return DailySums(medfee or zero, fund or zero, acct or zero, int(cnt or 0), int(refd or 0),
                     int(days))


def reconciliation_differences(row: ReconciliationTotal, sums: DailySums
                               ) -> dict[str, str | int]:
    """Bureau total minus summed daily facts, for each compared figure that differs beyond the
    rule: amounts by more than 0.01 yuan, counts by any amount. ``fixmedins_setl_cnt`` is
    compared with the sum of ``setl_cnt``, which already includes refund/reversal settlements
    (``refd_setl_cnt`` is a part of ``setl_cnt``, and amounts are net of refunds)."""
    out: dict[str, str | int] = {}
    for name, bureau, daily in (("medfee_sumamt", row.medfee_sumamt, sums.medfee_sumamt),
                                ("fund_pay_sumamt", row.fund_pay_sumamt, sums.fund_pay_sumamt),
                                ("acct_pay", row.acct_pay, sums.acct_pay)):
        if abs(bureau - daily) > RECONCILIATION_TOLERANCE:
            out[name] = str(bureau - daily)
    if row.fixmedins_setl_cnt != sums.setl_cnt:
        out["fixmedins_setl_cnt"] = row.fixmedins_setl_cnt - sums.setl_cnt
    return out


def add_reconciliation(session: Session, rows: list[ReconciliationTotal], msgid: str,
                       now: datetime) -> int:
    """Store the totals as received and compare each with the summed daily facts in the same
    transaction; a difference raises a data-quality flag (the data is kept either way).
    Returns the number of flags raised."""
    refuse_repeated_rows([(r.stmt_begndate, r.stmt_enddate, r.insutype, r.clr_type)
                          for r in rows], rows_zh="对账行", rows_en="reconciliation rows",
                         key_zh="对账期间、险种、清算类别", key_en="period, insutype and clr_type")
    flags = 0
    for r in rows:
        session.add(ReconciliationTotalRow(
            fixmedins_code=r.fixmedins_code, stmt_begndate=r.stmt_begndate,
            stmt_enddate=r.stmt_enddate, insutype=r.insutype, clr_type=r.clr_type,
            medfee_sumamt=r.medfee_sumamt, fund_pay_sumamt=r.fund_pay_sumamt,
            acct_pay=r.acct_pay, fixmedins_setl_cnt=r.fixmedins_setl_cnt, source_msgid=msgid,
            received_at=now))
        sums = daily_sums(session, r.fixmedins_code, r.insutype, r.clr_type, r.stmt_begndate,
                          r.stmt_enddate)
        diff = reconciliation_differences(r, sums)
        if not diff:
            continue
        flags += 1
        session.add(DataQualityFlagRow(
            fixmedins_code=r.fixmedins_code, kind="reconciliation_mismatch",
            period_begin=r.stmt_begndate, period_end=r.stmt_enddate, raised_at=now,
            source_msgid=msgid, resolved_at=None, details={
                "insutype": r.insutype, "clr_type": r.clr_type,
                "bureau": {"medfee_sumamt": str(r.medfee_sumamt),
                           "fund_pay_sumamt": str(r.fund_pay_sumamt),
                           "acct_pay": str(r.acct_pay),
                           "fixmedins_setl_cnt": r.fixmedins_setl_cnt},
                "daily": {"medfee_sumamt": str(sums.medfee_sumamt),
                          "fund_pay_sumamt": str(sums.fund_pay_sumamt),
                          "acct_pay": str(sums.acct_pay), "setl_cnt": sums.setl_cnt,
                          "refd_setl_cnt": sums.refd_setl_cnt, "days": sums.days},
                "difference": diff,
                "rule": "bureau minus summed 8301; amounts beyond 0.01 yuan, counts exact; "
                        "fixmedins_setl_cnt vs sum(setl_cnt), refunds included",
            }))
    return flags


# ------------------------------------------------------------------ 8303 disbursements


def _same_disbursement(stored: FundDisbursementRow, row: FundDisbursement) -> bool:
    return (stored.fixmedins_code, stored.dfr_sumamt, stored.bankacct, stored.fin_acen_time,
            stored.clr_type, stored.setlym) == (row.fixmedins_code, row.dfr_sumamt,
                                                row.bankacct, row.fin_acen_time, row.clr_type,
                                                row.setlym)


def add_disbursements(session: Session, rows: list[FundDisbursement], msgid: str) -> int:
    """Store new disbursements; a ``dfr_id`` already stored with the same content is accepted
    and left alone (a resend), with other content the whole message is refused
    (``dfr_conflict``). Returns the number of new rows."""
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r.dfr_id in first:
            where = f"input.data[{i}].dfr_id"
            raise ValidationFailed(
                "同一报文中存在重复的拨付编号", "duplicate dfr_id in one message",
                code="duplicate_rows",
                fields=[FieldError(where, f"{where}：与第 {first[r.dfr_id]} 行的拨付编号相同",
                                   f"{where}: same dfr_id as row {first[r.dfr_id]}")])
        first[r.dfr_id] = i
    ids = sorted(first)
    stored: dict[str, FundDisbursementRow] = {}
    for start in range(0, len(ids), 500):
        stored.update((d.dfr_id, d) for d in session.scalars(select(FundDisbursementRow).where(
            FundDisbursementRow.dfr_id.in_(ids[start:start + 500]))))
    new = 0
    for i, r in enumerate(rows):
        earlier = stored.get(r.dfr_id)
        if earlier is None:
            new += 1
            session.add(FundDisbursementRow(
                fixmedins_code=r.fixmedins_code, dfr_id=r.dfr_id, dfr_sumamt=r.dfr_sumamt,
                bankacct=r.bankacct, fin_acen_time=r.fin_acen_time, clr_type=r.clr_type,
                setlym=r.setlym, source_msgid=msgid))
        elif not _same_disbursement(earlier, r):
            where = f"input.data[{i}].dfr_id"
            raise ValidationFailed(
                "拨付编号已存在且内容不同", "dfr_id already stored with other content",
                code="dfr_conflict",
                fields=[FieldError(where, f"{where}：{r.dfr_id} 已以不同内容存在",
                                   f"{where}: {r.dfr_id} is already stored with other "
                                   "content")])
    return new

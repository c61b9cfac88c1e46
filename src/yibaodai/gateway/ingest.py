"""Applying validated bureau rows to the operational store, inside the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.orm import Session

from yibaodai.db.models import (
    AuthorizationRow,
    InstitutionEventRow,
    InstitutionRow,
    SettlementFactRow,
)
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.gateway.rows import (
    AuthorizationGranted,
    AuthorizationRevoked,
    DailySummary,
    InstitutionEvent,
    InstitutionProfile,
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
        auth_scope=list(row.auth_scope), begndate=row.begndate, enddate=row.enddate,
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


def add_daily_summaries(session: Session, rows: list[DailySummary], msgid: str) -> None:
    """A resent day replaces the earlier figures for that day (the bureau's correction)."""
    keys = {(r.fixmedins_code, r.setl_date, r.insutype, r.clr_type) for r in rows}
    if len(keys) != len(rows):
        seen: set[tuple[str, date, str, str]] = set()
        dup = 0
        for dup, r in enumerate(rows):  # noqa: B007
            key = (r.fixmedins_code, r.setl_date, r.insutype, r.clr_type)
            if key in seen:
                break
            seen.add(key)
        where = f"input.data[{dup}]"
        raise ValidationFailed(
            "同一报文中存在重复的日汇总行", "duplicate daily rows in one message",
            code="duplicate_rows",
            fields=[FieldError(where, f"{where}：与前面的行日期、险种、清算类别相同",
                               f"{where}: same setl_date, insutype and clr_type as an "
                               "earlier row")])
    key_cols = tuple_(SettlementFactRow.fixmedins_code, SettlementFactRow.setl_date,
                      SettlementFactRow.insutype, SettlementFactRow.clr_type)
    key_list = sorted(keys)
    for start in range(0, len(key_list), 500):
        session.execute(delete(SettlementFactRow).where(
            key_cols.in_(key_list[start:start + 500])))
    # Column keys carry the Money type, which converts Decimal yuan to fen.
    table = cast(Table, SettlementFactRow.__table__)
    session.execute(
        table.insert(),
        [{
            "fixmedins_code": r.fixmedins_code, "setl_date": r.setl_date,
            "insutype": r.insutype, "clr_type": r.clr_type, "setl_cnt": r.setl_cnt,
            "refd_setl_cnt": r.refd_setl_cnt, "medfee_sumamt_fen": r.medfee_sumamt,
            "fund_pay_sumamt_fen": r.fund_pay_sumamt, "hifp_pay_fen": r.hifp_pay,
            "acct_pay_fen": r.acct_pay, "psn_cash_pay_fen": r.psn_cash_pay,
            "source_msgid": msgid,
        } for r in rows],
    )

"""What the bureau sends: the archive, outcomes, quarantine, institutions, authorizations,
settlement facts, bureau events, reconciliation totals, data-quality flags, disbursements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base, ChainLink
from yibaodai.db.types import AwareDateTime, Money


class RawMessageRow(ChainLink):
    """The archive: every signed message, as received, before processing. Append-only
    (database triggers refuse UPDATE and DELETE) and hash-chained."""

    __tablename__ = "raw_messages"
    msgid: Mapped[str] = mapped_column(String(40), unique=True)
    infno: Mapped[str] = mapped_column(String(4))
    key_id: Mapped[str] = mapped_column(String(40))
    fixmedins_code: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())
    #: The request body exactly as received (bytes: nothing decoded or re-encoded).
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sm3: Mapped[str] = mapped_column(String(64))


class MessageOutcomeRow(Base):
    """What the gateway answered for an archived message (kept apart so the archive stays
    append-only)."""

    __tablename__ = "message_outcomes"
    msgid: Mapped[str] = mapped_column(ForeignKey("raw_messages.msgid"), primary_key=True)
    infcode: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    processed_at: Mapped[datetime] = mapped_column(AwareDateTime())


class QuarantineRow(Base):
    """A refused message: why, and (up to a cap) what it said. ``authenticated`` rows came
    from a peer whose signature verified; their record is kept even when the body is
    dropped (``gateway.quarantine``)."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    msgid: Mapped[str | None] = mapped_column(String(40))
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    authenticated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source: Mapped[str | None] = mapped_column(String(64))
    body_bytes: Mapped[int | None] = mapped_column(Integer)
    body_sm3: Mapped[str | None] = mapped_column(String(64), index=True)


class NonceRow(Base):
    """The envelope nonces seen within the timestamp window (older ones are pruned: a
    message that old is refused as stale before its nonce matters). The first message to
    bring a nonce owns it."""

    __tablename__ = "gateway_nonces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(32))
    msgid: Mapped[str] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    __table_args__ = (Index("ix_gateway_nonces_peer_nonce", "peer", "nonce"),)


class InstitutionRow(Base):
    __tablename__ = "institutions"
    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    fixmedins_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    fixmedins_type: Mapped[str | None] = mapped_column(String(2))
    hosp_lv: Mapped[str | None] = mapped_column(String(20))
    area_code: Mapped[str | None] = mapped_column(String(6))
    addr: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    biz_stas: Mapped[str | None] = mapped_column(String(4))
    cred_lv_name: Mapped[str | None] = mapped_column(String(20))
    ownership: Mapped[str | None] = mapped_column(String(10))
    begntime: Mapped[date | None] = mapped_column(Date)
    endtime: Mapped[date | None] = mapped_column(Date)
    legrep_name: Mapped[str | None] = mapped_column(String(50))
    bankacct: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class AuthorizationRow(Base):
    __tablename__ = "authorizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auth_no: Mapped[str] = mapped_column(String(40), unique=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    #: The name the institution authorized under (null for grants stored before 0013).
    fixmedins_name: Mapped[str | None] = mapped_column(String(200))
    auth_scope: Mapped[list[Any]] = mapped_column(JSON)
    begndate: Mapped[date] = mapped_column(Date)
    enddate: Mapped[date] = mapped_column(Date)
    granted_at: Mapped[datetime] = mapped_column(AwareDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class SettlementFactRow(Base):
    """One institution-day-insurance type-clearing type summary (8301).

    The natural key is the primary key (no surrogate id): one index to maintain per row
    loaded, and it is also the index of every per-institution date-range query (its leading
    columns are the institution and the date)."""

    __tablename__ = "settlement_facts"
    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    setl_date: Mapped[date] = mapped_column(Date, primary_key=True)
    insutype: Mapped[str] = mapped_column(String(3), primary_key=True)
    clr_type: Mapped[str] = mapped_column(String(2), primary_key=True)
    setl_cnt: Mapped[int] = mapped_column(Integer)
    refd_setl_cnt: Mapped[int] = mapped_column(Integer)
    medfee_sumamt: Mapped[Decimal] = mapped_column("medfee_sumamt_fen", Money())
    fund_pay_sumamt: Mapped[Decimal] = mapped_column("fund_pay_sumamt_fen", Money())
    hifp_pay: Mapped[Decimal] = mapped_column("hifp_pay_fen", Money())
    acct_pay: Mapped[Decimal] = mapped_column("acct_pay_fen", Money())
    psn_cash_pay: Mapped[Decimal] = mapped_column("psn_cash_pay_fen", Money())
    source_msgid: Mapped[str] = mapped_column(String(40))


class SettlementMonthRow(Base):
    """One institution's daily facts summed by calendar month (``YYYY-MM``), with the last
    settlement day of the month. Kept by ingestion in the same transaction as the daily rows
    (``gateway.ingest.refresh_settlement_months``) and deleted with them by retention.

    Why: the institution view shows three years by month. Summed from the daily rows, that
    read ~2,000 rows scattered over ~60 pages of a table far larger than memory, so a view
    of an institution nobody had opened lately waited on the disk (measured up to 400 ms);
    these 36 rows sit on one or two pages."""

    __tablename__ = "settlement_months"
    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    setl_cnt: Mapped[int] = mapped_column(Integer)
    refd_setl_cnt: Mapped[int] = mapped_column(Integer)
    medfee_sumamt: Mapped[Decimal] = mapped_column("medfee_sumamt_fen", Money())
    fund_pay_sumamt: Mapped[Decimal] = mapped_column("fund_pay_sumamt_fen", Money())
    hifp_pay: Mapped[Decimal] = mapped_column("hifp_pay_fen", Money())
    acct_pay: Mapped[Decimal] = mapped_column("acct_pay_fen", Money())
    psn_cash_pay: Mapped[Decimal] = mapped_column("psn_cash_pay_fen", Money())
    last_setl_date: Mapped[date] = mapped_column(Date)


class InstitutionEventRow(Base):
    __tablename__ = "institution_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    evt_type: Mapped[str] = mapped_column(String(30))
    evt_date: Mapped[date] = mapped_column(Date)
    evt_desc: Mapped[str] = mapped_column(Text)
    evt_amt: Mapped[Decimal | None] = mapped_column("evt_amt_fen", Money())
    source_msgid: Mapped[str] = mapped_column(String(40))


class ReconciliationTotalRow(Base):
    """The bureau's monthly reconciliation totals (8302), kept as received."""

    __tablename__ = "reconciliation_totals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    stmt_begndate: Mapped[date] = mapped_column(Date)
    stmt_enddate: Mapped[date] = mapped_column(Date)
    insutype: Mapped[str] = mapped_column(String(3))
    clr_type: Mapped[str] = mapped_column(String(2))
    medfee_sumamt: Mapped[Decimal] = mapped_column("medfee_sumamt_fen", Money())
    fund_pay_sumamt: Mapped[Decimal] = mapped_column("fund_pay_sumamt_fen", Money())
    acct_pay: Mapped[Decimal] = mapped_column("acct_pay_fen", Money())
    fixmedins_setl_cnt: Mapped[int] = mapped_column(Integer)
    source_msgid: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())


class DataQualityFlagRow(Base):
    """A data-quality problem shown to managers (e.g. reconciliation totals that differ from
    the summed daily facts). Data is never dropped because of a flag."""

    __tablename__ = "data_quality_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    period_begin: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(AwareDateTime())
    source_msgid: Mapped[str] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class FundDisbursementRow(Base):
    """Fund disbursements to the institution's account (8303)."""

    __tablename__ = "fund_disbursements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    dfr_id: Mapped[str] = mapped_column(String(40), unique=True)
    dfr_sumamt: Mapped[Decimal] = mapped_column("dfr_sumamt_fen", Money())
    bankacct: Mapped[str] = mapped_column(String(40))
    fin_acen_time: Mapped[datetime] = mapped_column(AwareDateTime())
    clr_type: Mapped[str] = mapped_column(String(2))
    setlym: Mapped[str] = mapped_column(String(6))
    source_msgid: Mapped[str] = mapped_column(String(40))

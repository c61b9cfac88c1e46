"""SQLAlchemy tables. Rows are plain storage; rules live in ``domain``.

Append-only tables (``raw_messages``, ``decisions``, ``case_events``, ``audit_log``) have no
update path in code; ``raw_messages`` and ``audit_log`` are also hash-chained.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yibaodai.db.types import AwareDateTime, Money

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


# --- organisation and people -------------------------------------------------------------


class SubBranchRow(Base):
    __tablename__ = "sub_branches"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(30))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    districts: Mapped[list[Any]] = mapped_column(JSON)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    staff_no: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(30))
    sub_branch_code: Mapped[str | None] = mapped_column(ForeignKey("sub_branches.code"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaPenaltyRow(Base):
    __tablename__ = "sla_penalties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub_branch_code: Mapped[str] = mapped_column(ForeignKey("sub_branches.code"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    detected_at: Mapped[datetime] = mapped_column(AwareDateTime())
    until: Mapped[datetime] = mapped_column(AwareDateTime())
    __table_args__ = (UniqueConstraint("case_id", "kind"),)


# --- data from the bureau ----------------------------------------------------------------


class RawMessageRow(Base):
    """The archive: every signed message, as received, before processing. Append-only."""

    __tablename__ = "raw_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msgid: Mapped[str] = mapped_column(String(40), unique=True)
    infno: Mapped[str] = mapped_column(String(4))
    key_id: Mapped[str] = mapped_column(String(40))
    fixmedins_code: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())
    #: The request body exactly as received (bytes: nothing decoded or re-encoded).
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sm3: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


class MessageOutcomeRow(Base):
    """What the gateway answered for an archived message (kept apart so the archive stays
    append-only)."""

    __tablename__ = "message_outcomes"
    msgid: Mapped[str] = mapped_column(ForeignKey("raw_messages.msgid"), primary_key=True)
    infcode: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    processed_at: Mapped[datetime] = mapped_column(AwareDateTime())


class QuarantineRow(Base):
    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())
    msgid: Mapped[str | None] = mapped_column(String(40))
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


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


class InstitutionEventRow(Base):
    __tablename__ = "institution_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    evt_type: Mapped[str] = mapped_column(String(30))
    evt_date: Mapped[date] = mapped_column(Date)
    evt_desc: Mapped[str] = mapped_column(Text)
    evt_amt: Mapped[Decimal | None] = mapped_column("evt_amt_fen", Money())
    source_msgid: Mapped[str] = mapped_column(String(40))


# --- decisions, cases, warnings ----------------------------------------------------------


class DecisionRow(Base):
    """An admission decision. Immutable: inputs, rule version and reasons are kept for replay."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    decided_at: Mapped[datetime] = mapped_column(AwareDateTime())
    trigger: Mapped[str] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(10))
    credit_limit: Mapped[Decimal] = mapped_column("credit_limit_fen", Money())
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule_version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    # issue 4: the model version that decided and its score (None on older rows)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    score: Mapped[int | None] = mapped_column(Integer)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    sub_branch_code: Mapped[str] = mapped_column(ForeignKey("sub_branches.code"), index=True)
    client_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), index=True)
    credit_limit: Mapped[Decimal] = mapped_column("credit_limit_fen", Money())
    assigned_at: Mapped[datetime] = mapped_column(AwareDateTime())
    claim_deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    verification_deadline: Mapped[datetime | None] = mapped_column(AwareDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    loan_status: Mapped[str | None] = mapped_column(String(20))
    loan_drawn: Mapped[Decimal | None] = mapped_column("loan_drawn_fen", Money())
    loan_balance: Mapped[Decimal | None] = mapped_column("loan_balance_fen", Money())
    overdue_days: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseEventRow(Base):
    """Append-only history of a case: every transition with who, when and what."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class WarningRow(Base):
    __tablename__ = "warnings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    rule_code: Mapped[str] = mapped_column(String(40))
    rule_version: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    raised_at: Mapped[datetime] = mapped_column(AwareDateTime())
    severity: Mapped[str] = mapped_column(String(10))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    __table_args__ = (UniqueConstraint("case_id", "rule_code", "period"),)


# --- outbound and audit ------------------------------------------------------------------


class OutboxRow(Base):
    """Everything the bank sends out, written in the same transaction as the change that
    caused it, then delivered by the dispatcher with retries and an idempotency key."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditRow(Base):
    """Append-only, SM3 hash-chained log of who did what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


# --- reconciliation and disbursements ------------------------------------------------------


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



# --- whitelist model versions and shadow decisions (issue 4) -----------------------------


class ModelVersionRow(Base):
    """One whitelist model version: its content (policy, scorecards, limit rule) as validated
    JSON and its SM3 hash. Content never changes; a change is a new version. The stage is
    derived from ``model_version_events``."""

    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(50))


class ModelVersionEventRow(Base):
    """Append-only log of a version's lifecycle: who moved it from which stage to which."""

    __tablename__ = "model_version_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    action: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(50))


class ShadowDecisionRow(Base):
    """What the challenger version would have decided on the same stored inputs. Append-only;
    never affects the decision, the case or the outbox."""

    __tablename__ = "shadow_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    decided_at: Mapped[datetime] = mapped_column(AwareDateTime())
    result: Mapped[str] = mapped_column(String(10))
    credit_limit: Mapped[Decimal] = mapped_column("credit_limit_fen", Money())
    score: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))

"""Admission decisions, cases, case events and post-loan warnings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base, ChainLink
from yibaodai.db.types import AwareDateTime, Money


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


class CaseEventRow(ChainLink):
    """Append-only history of a case: every transition with who, when and what. Database
    triggers refuse UPDATE and DELETE; hash-chained (``cases.events``)."""

    __tablename__ = "case_events"
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
    outcome_kind: Mapped[str | None] = mapped_column(String(20))  # domain.ews.handling
    action: Mapped[str | None] = mapped_column(String(20))
    escalation: Mapped[str | None] = mapped_column(String(20))  # department / branch
    __table_args__ = (UniqueConstraint("case_id", "rule_code", "period"),)


class CaseAttachmentRow(Base):
    """A file the holder attached to the verification checklist (a licence photo, a bank
    statement): kept in the database beside the case, so a backup carries it, with its size,
    the type read from its bytes and its SHA-256 for the audit trail. ``content`` is
    deferred: lists never load the bytes."""

    __tablename__ = "case_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[str | None] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

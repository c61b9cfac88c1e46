"""The transactional outbox and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base, ChainLink
from yibaodai.db.types import AwareDateTime


class OutboxRow(Base):
    """Everything the bank sends out, written in the same transaction as the change that
    caused it, then delivered by the dispatcher (``worker.dispatcher``) with retries and an
    idempotency key."""

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
    #: The dispatcher sending the row now, and until when its claim holds (a dispatcher that
    #: dies mid-send leaves the row to be sent again, under the same idempotency key).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(AwareDateTime())


class AuditRow(ChainLink):
    """Append-only (database triggers refuse UPDATE and DELETE), hash-chained log of who did
    what."""

    __tablename__ = "audit_log"
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(50))
    #: Indexed: a warning's or a case's history and the audit page filter by target.
    target: Mapped[str] = mapped_column(String(80), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

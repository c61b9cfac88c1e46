"""Limit actions on a borrower after a warning (压降额度 / 冻结额度) and the facts external
sources report about borrowers (tax, registration, court enforcement)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime


class LimitActionRow(Base):
    """One "reduce limit" or "freeze" decided when a warning was handled, reported to head
    office through the outbox (``outbox_key``). ``status`` is pending until head office
    acknowledges (``acknowledged_at``, ``ho_ref``). The case's current limit action is its
    newest row; rows are never deleted."""

    __tablename__ = "limit_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id"), unique=True)
    action: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(AwareDateTime())
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outbox_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    acknowledged_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    ho_ref: Mapped[str | None] = mapped_column(String(40))


class ExternalFactRow(Base):
    """What an external source (``monitoring.sources``) said about a borrower on a day: once
    per source, institution, kind and day, so fetching again stores nothing twice."""

    __tablename__ = "external_facts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    fact_date: Mapped[date] = mapped_column(Date())
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())
    __table_args__ = (UniqueConstraint("source", "fixmedins_code", "kind", "fact_date"),)

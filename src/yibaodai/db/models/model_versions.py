"""Whitelist model versions, their lifecycle events and shadow decisions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime, Money


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

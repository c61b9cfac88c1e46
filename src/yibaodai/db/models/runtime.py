"""What the service runs on its own: deferred events waiting for their handler, job runs and
job leases (one holder per job at a time, across worker processes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime


class FlowEventRow(Base):
    """An event queued for one deferred handler, written in the transaction that published it
    and handled later by a worker; once per (handler, event): ``event_key`` is the SM3 of the
    event's type and content, so publishing the same event again queues nothing."""

    __tablename__ = "flow_events"
    __table_args__ = (UniqueConstraint("handler", "event_key",
                                       name="uq_flow_events_handler_event_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    event_key: Mapped[str] = mapped_column(String(64))
    handler: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(AwareDateTime())
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class JobRunRow(Base):
    """One run of a scheduled job: who ran it, when, how it ended and what it did."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    holder: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(AwareDateTime())
    finished_at: Mapped[datetime] = mapped_column(AwareDateTime())
    outcome: Mapped[str] = mapped_column(String(10))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class JobLeaseRow(Base):
    """Who may run a job now: taken with a conditional UPDATE (free, expired, or already
    ours), so two workers never run one job at the same time."""

    __tablename__ = "job_leases"
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class DataChangeRow(Base):
    """A note that a statement changed one of the tables the cached reads are built from,
    written by the database's own triggers (``db.changes``) in the changing transaction, so
    it is visible exactly when the change is. Only inserted, never updated; ids only grow
    (``AUTOINCREMENT`` on SQLite), and pruning inserts a marker row (``db.changes.prune``)."""

    __tablename__ = "data_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(63))

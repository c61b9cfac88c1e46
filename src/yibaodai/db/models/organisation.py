"""Sub-branches, staff and SLA penalties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime


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
    #: The platform's language for this user: ``zh-CN`` (default) or ``en-US``.
    locale: Mapped[str] = mapped_column(String(5), default="zh-CN", server_default="zh-CN")
    #: Set by an administrator's reset: the temporary password must be changed first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=sa_false())


class SlaPenaltyRow(Base):
    __tablename__ = "sla_penalties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub_branch_code: Mapped[str] = mapped_column(ForeignKey("sub_branches.code"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    detected_at: Mapped[datetime] = mapped_column(AwareDateTime())
    until: Mapped[datetime] = mapped_column(AwareDateTime())
    #: A branch manager may lift the penalty early, with a reason (``cases.penalties``).
    lifted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("case_id", "kind"),)


class NotificationRow(Base):
    """The platform inbox: reminders and escalations for one member of staff. ``key`` makes
    every notice once-only, so a repeated sweep sends nothing twice."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(AwareDateTime())

"""Marketing: imports of the bureau's list, prospects, how each row was matched, the
outreach log, campaigns with their targets, and authorizations credited to outreach.

``outreach_events`` and ``prospect_matches`` are append-only (no update path in code); a
prospect's outreach state is the ``to_state`` of its latest event, never stored beside it.
"""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime, Money


class ListImportRow(Base):
    """One import of a list: the file's digest, the counts and the whole report (so the
    platform can serve the report again as Excel)."""

    __tablename__ = "list_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_sm3: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(AwareDateTime())
    imported_by: Mapped[str] = mapped_column(String(50))
    read: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    merged: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    matching_version: Mapped[str] = mapped_column(String(40))


class ProspectRow(Base):
    """An institution of the bureau's list the bank may approach. Refreshed by each import;
    the assignment and the do-not-contact flag belong to the bank and survive re-imports."""

    __tablename__ = "prospects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    address_key: Mapped[str] = mapped_column(String(300))
    district: Mapped[str] = mapped_column(String(6), index=True)
    phones: Mapped[list[Any]] = mapped_column(JSON)
    contact: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str | None] = mapped_column(String(2))
    kind_text: Mapped[str | None] = mapped_column(String(50))
    designated_on: Mapped[date | None] = mapped_column(Date)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    #: The institution the gateway knows this prospect as, and why it was linked.
    institution_code: Mapped[str | None] = mapped_column(
        ForeignKey("institutions.fixmedins_code"), index=True)
    link_reason: Mapped[str | None] = mapped_column(String(20))
    link_score: Mapped[int | None] = mapped_column(Integer)
    sub_branch_code: Mapped[str | None] = mapped_column(ForeignKey("sub_branches.code"),
                                                        index=True)
    client_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    assignment: Mapped[dict[str, Any]] = mapped_column(JSON)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_contact_reason: Mapped[str | None] = mapped_column(Text)
    first_import_id: Mapped[int] = mapped_column(ForeignKey("list_imports.id"))
    first_row: Mapped[int] = mapped_column(Integer)  # its sheet row in that import
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())  # last change by an import


class ProspectMatchRow(Base):
    """How one data row of an import was resolved: new, updated, merged or refused, into which
    prospect or row, why and with what score. Append-only."""

    __tablename__ = "prospect_matches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("list_imports.id"), index=True)
    sheet_row: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10))
    prospect_id: Mapped[int | None] = mapped_column(ForeignKey("prospects.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    into_row: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutreachEventRow(Base):
    """One outreach outcome. Append-only: the prospect's state is the latest ``to_state``."""

    __tablename__ = "outreach_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"), index=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10))  # "staff" or "gateway"
    outcome: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    next_action_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)


class CampaignRow(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(50))


class CampaignTargetRow(Base):
    __tablename__ = "campaign_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    sub_branch_code: Mapped[str] = mapped_column(ForeignKey("sub_branches.code"))
    target_count: Mapped[int] = mapped_column(Integer)
    target_amount: Mapped[Decimal] = mapped_column("target_amount_fen", Money())
    __table_args__ = (UniqueConstraint("campaign_id", "sub_branch_code"),)


class CampaignAttributionRow(Base):
    """An authorization credited to the outreach that preceded it within a campaign."""

    __tablename__ = "campaign_attributions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"))
    outreach_event_id: Mapped[int] = mapped_column(ForeignKey("outreach_events.id"))
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    authorized_at: Mapped[datetime] = mapped_column(AwareDateTime())
    sub_branch_code: Mapped[str | None] = mapped_column(ForeignKey("sub_branches.code"))
    client_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (UniqueConstraint("campaign_id", "prospect_id"),)

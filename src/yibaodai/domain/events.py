"""What happened, as plain data: the events the flow is made of (the message bus of
*Architecture Patterns with Python*). Named in the past tense, in the bank's language.

Ingestion records what arrived (``AuthorizationGranted`` ... ``LoanStatusReported``); the
handlers registered for an event (``flow.handlers``) decide, assign, queue answers and raise
warnings, and may return follow-up events (``DecisionMade``, ``CaseAssigned`` ...). An event
carries what its handlers need — ids, codes, amounts, times — never a database row, and its
own time ``at``, so handling it again (a replay, a deferred run on another day) gives the same
answer. ``docs/architecture.md`` has the table of events and handlers.

Pure: no I/O; the bus and the stored queue of deferred events live in ``flow``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened at ``at`` (aware, Asia/Shanghai)."""

    at: datetime


# -- ingestion: what the bureau and head office sent (one event per fact stored) -------------


@dataclass(frozen=True, kw_only=True)
class AuthorizationGranted(Event):
    """8101: the institution authorized the bank to use its data."""

    fixmedins_code: str
    auth_no: str
    auth_scope: tuple[str, ...]
    begndate: date
    enddate: date
    msgid: str


@dataclass(frozen=True, kw_only=True)
class AuthorizationRevoked(Event):
    """8102: the institution withdrew an authorization; later data is refused."""

    fixmedins_code: str
    auth_no: str
    msgid: str


@dataclass(frozen=True, kw_only=True)
class ProfileChanged(Event):
    """8201: the institution's registered profile was stored (first time or changed)."""

    fixmedins_code: str
    msgid: str


@dataclass(frozen=True, kw_only=True)
class BureauEventRecorded(Event):
    """8202: the bureau reported a penalty, suspension, restoration or end of designation."""

    fixmedins_code: str
    evt_type: str
    evt_date: date
    msgid: str


@dataclass(frozen=True, kw_only=True)
class SettlementDataStored(Event):
    """8301: daily settlement summaries of one institution were stored."""

    fixmedins_code: str
    msgid: str
    first_date: date
    last_date: date
    rows: int


@dataclass(frozen=True, kw_only=True)
class LoanStatusReported(Event):
    """8601: head office reported a loan's status (drawn, balance, overdue, closed)."""

    fixmedins_code: str
    case_id: int
    status: str
    drawn_amount: Decimal
    balance: Decimal
    overdue_days: int
    msgid: str


# -- the bank's own steps ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DecisionMade(Event):
    """An admission decision was stored (a first decision or a re-evaluation)."""

    decision_id: int
    fixmedins_code: str
    result: str
    credit_limit: Decimal
    supersedes: int | None


@dataclass(frozen=True, kw_only=True)
class CaseAssigned(Event):
    """An admitted institution's case went to a sub-branch."""

    case_id: int
    fixmedins_code: str
    sub_branch_code: str
    decision_id: int


@dataclass(frozen=True, kw_only=True)
class CaseConfirmed(Event):
    """A department manager confirmed the offline verification; the entry may go to head
    office."""

    case_id: int
    fixmedins_code: str
    decision_id: int
    credit_limit: Decimal


@dataclass(frozen=True, kw_only=True)
class WarningRaised(Event):
    """Post-loan monitoring raised a warning for a case's client manager."""

    warning_id: int
    case_id: int
    rule_code: str
    period: str


@dataclass(frozen=True, kw_only=True)
class WarningLevelRaised(Event):
    """An open warning's level went up (yellow to orange, orange to red ...): its client
    manager is told again."""

    warning_id: int
    case_id: int
    rule_code: str
    period: str
    level: str
    previous_level: str


@dataclass(frozen=True, kw_only=True)
class WarningHandled(Event):
    """The post-loan check of a warning was recorded: what it found and what the bank does
    ("reduce limit" and "freeze" go to head office, ``monitoring.limit_actions``)."""

    warning_id: int
    case_id: int
    fixmedins_code: str
    outcome_kind: str | None
    action: str | None
    handled_by: int


@dataclass(frozen=True, kw_only=True)
class ExternalFactRecorded(Event):
    """An external source (tax, registration, court enforcement) reported a fact about a
    borrower (``monitoring.sources``)."""

    fixmedins_code: str
    source: str
    kind: str
    fact_date: date


@dataclass(frozen=True, kw_only=True)
class MessageDelivered(Event):
    """An outbox message reached its receiver, who answered ``answer`` (its ``output``)."""

    outbox_id: int
    destination: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any] = field(hash=False)
    answer: dict[str, Any] = field(hash=False)


@dataclass(frozen=True, kw_only=True)
class DeliveryFailed(Event):
    """An outbox message was given up after its last attempt (dead letter)."""

    outbox_id: int
    destination: str
    kind: str
    idempotency_key: str
    attempts: int
    error: str


#: Every event type by name (how deferred events are stored and read back).
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in (
    AuthorizationGranted, AuthorizationRevoked, ProfileChanged, BureauEventRecorded,
    SettlementDataStored, LoanStatusReported, DecisionMade, CaseAssigned, CaseConfirmed,
    WarningRaised, WarningLevelRaised, WarningHandled, ExternalFactRecorded, MessageDelivered,
    DeliveryFailed)}


class Publish(Protocol):
    """Hands events to the message bus inside the caller's unit of work (``session``: a
    SQLAlchemy session, typed loosely so the domain imports no database code). Returns every
    event handled: the given ones and all their follow-ups, in order."""

    def __call__(self, session: Any, events: Sequence[Event], /) -> list[Event]: ...

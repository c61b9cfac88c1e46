"""The branch administrator's hand on the outbox: a message that died (or keeps failing) goes
back to the queue, due now, with the reason in the audit log. What is sent stays sent.

The same for the deferred handlers' events (``flow_events``, e.g. monitoring after new data):
one whose handler failed ``worker.deferred.MAX_ATTEMPTS`` times is dead, shown on the outbox
page beside the messages, and goes back to its handler's queue the same way. What was
handled stays handled."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.db.models import FlowEventRow, OutboxRow
from yibaodai.errors import Conflict, FieldError, NotFound, ValidationFailed

Queued = TypeVar("Queued", OutboxRow, FlowEventRow)


def shown_status(row: OutboxRow | FlowEventRow) -> str:
    """pending, failed (pending after at least one failed attempt), dead, or sent / done."""
    if row.status == "pending" and row.attempts > 0:
        return "failed"
    return row.status


def with_shown_status(stmt: Select[tuple[Queued]], model: type[Queued],
                      status: str | None) -> Select[tuple[Queued]]:
    """``stmt`` narrowed to the rows :func:`shown_status` shows as ``status`` (None: all)."""
    if status == "failed":
        return stmt.where(model.status == "pending", model.attempts > 0)
    if status == "pending":
        return stmt.where(model.status == "pending", model.attempts == 0)
    if status:
        return stmt.where(model.status == status)
    return stmt


def _requeue(row: OutboxRow | FlowEventRow, now: datetime) -> dict[str, object]:
    """Back to its queue, due now, its attempts counted anew; what it was, for the audit."""
    was = {"was": shown_status(row), "attempts": row.attempts,
           "last_error": (row.last_error or "")[:500]}
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    return was


def _reason(reason: str) -> str:
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise ValidationFailed("请填写重试原因（2-500字）", "give a reason (2-500 characters)",
                               code="invalid_reason",
                               fields=[FieldError("reason", "2-500字", "2-500 characters")])
    return text


def retry(session: Session, *, outbox_id: int, reason: str, actor: str,
          now: datetime) -> OutboxRow:
    text = _reason(reason)
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        raise NotFound("消息不存在", "message not found", code="outbox_not_found")
    if row.status == "sent":
        raise Conflict("消息已发送，无需重试", "the message was sent; nothing to retry",
                       code="already_sent")
    audit(session, at=now, actor=actor, action="outbox.retry", target=f"outbox:{row.id}",
          details={"reason": text, **_requeue(row, now)})
    return row


def retry_event(session: Session, *, event_id: int, reason: str, actor: str,
                now: datetime) -> FlowEventRow:
    """A deferred event back to its handler's queue, due now, its attempts counted anew."""
    text = _reason(reason)
    row = session.get(FlowEventRow, event_id)
    if row is None:
        raise NotFound("事件不存在", "event not found", code="flow_event_not_found")
    if row.status == "done":
        raise Conflict("事件已处理，无需重试", "the event was handled; nothing to retry",
                       code="already_handled")
    audit(session, at=now, actor=actor, action="flow_event.retry",
          target=f"flow_event:{row.id}",
          details={"reason": text, "handler": row.handler, **_requeue(row, now)})
    return row

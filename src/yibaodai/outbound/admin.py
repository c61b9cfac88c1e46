"""The branch administrator's hand on the outbox: a message that died (or keeps failing) goes
back to the queue, due now, with the reason in the audit log. What is sent stays sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.db.models import OutboxRow
from yibaodai.errors import Conflict, FieldError, NotFound, ValidationFailed


def shown_status(row: OutboxRow) -> str:
    """pending, failed (pending after at least one failed attempt), dead or sent."""
    if row.status == "pending" and row.attempts > 0:
        return "failed"
    return row.status


def retry(session: Session, *, outbox_id: int, reason: str, actor: str,
          now: datetime) -> OutboxRow:
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise ValidationFailed("请填写重试原因（2-500字）", "give a reason (2-500 characters)",
                               code="invalid_reason",
                               fields=[FieldError("reason", "2-500字", "2-500 characters")])
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        raise NotFound("消息不存在", "message not found", code="outbox_not_found")
    if row.status == "sent":
        raise Conflict("消息已发送，无需重试", "the message was sent; nothing to retry",
                       code="already_sent")
    before = shown_status(row)
    attempts = row.attempts
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    audit(session, at=now, actor=actor, action="outbox.retry", target=f"outbox:{row.id}",
          details={"reason": text, "was": before, "attempts": attempts,
                   "last_error": (row.last_error or "")[:500]})
    return row

"""The transactional outbox: rows written in the same transaction as the change that causes
them. Delivery is the dispatcher's job, never the request's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import OutboxRow

BUREAU = "bureau"
HEAD_OFFICE = "headoffice"

KIND_ADMISSION_RESULT = "admission_result"    # infno 8901 to the bureau
KIND_WHITELIST_ENTRY = "whitelist_entry"      # infno 8501 to head office
KIND_LIMIT_ACTION = "limit_action"            # infno 8502 to head office: reduce / freeze


def enqueue(
    session: Session, *, destination: str, kind: str, idempotency_key: str,
    payload: dict[str, Any], now: datetime,
) -> OutboxRow:
    """Queue a message once: the same idempotency key never queues a second copy."""
    existing = session.scalars(
        select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)).first()
    if existing is not None:
        return existing
    row = OutboxRow(destination=destination, kind=kind, idempotency_key=idempotency_key,
                    payload=payload, created_at=now, status="pending", attempts=0,
                    next_attempt_at=now)
    session.add(row)
    session.flush()
    return row

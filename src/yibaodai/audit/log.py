"""Append-only, SM3 hash-chained audit log.

Each row's hash covers the previous row's hash and the row's own content, so altering or
removing any row breaks every later link; ``verify_chain`` names the first bad row. Rows are
written inside the caller's unit of work, so an action and its audit row commit together.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.locks import lock_for_append
from yibaodai.db.models import AuditRow

GENESIS = "0" * 64


def _sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return _sm3((prev_hash + canonical).encode("utf-8"))


def _content(row: AuditRow) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "details": row.details,
    }


def record(
    session: Session, *, at: datetime, actor: str, action: str, target: str,
    details: dict[str, Any] | None = None,
) -> AuditRow:
    lock_for_append(session, "audit_log")
    last = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).first()
    prev = last.record_hash if last else GENESIS
    row = AuditRow(at=at, actor=actor, action=action, target=target, details=details or {},
                   prev_hash=prev, record_hash="")
    row.record_hash = chain_hash(prev, _content(row))
    session.add(row)
    session.flush()
    return row


def verify_chain(session: Session) -> int | None:
    """The id of the first row whose link or content was altered, or None if intact."""
    prev = GENESIS
    for row in session.scalars(select(AuditRow).order_by(AuditRow.id)):
        if row.prev_hash != prev or chain_hash(prev, _content(row)) != row.record_hash:
            return row.id
        prev = row.record_hash
    return None

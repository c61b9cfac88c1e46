"""The audit log: append-only, keyed hash chain of who did what.

Rows are written inside the caller's unit of work, so an action and its audit row commit
together. Each row's link (``audit.chain``) covers the previous row's hash and this row's
content with the bank's chain key; the database refuses UPDATE and DELETE on the table
(``db.append_only``); signed checkpoints (``audit.checkpoints``) fix its head.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibaodai.audit.chain import (
    GENESIS,
    Chain,
    append,
    append_direct,
    legacy_sm3,
    utc_iso,
    walk,
)
from yibaodai.audit.keys import session_chain_keys
from yibaodai.db.models import AuditRow

__all__ = ["AUDIT", "GENESIS", "chain_hash", "record", "record_direct", "verify_chain"]


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The unkeyed link of audit rows written before revision 0011."""
    return legacy_sm3(prev_hash, content)


def _legacy_link(prev_hash: str, row: AuditRow) -> str:
    return chain_hash(prev_hash, {"at": row.at.isoformat(), "actor": row.actor,
                                  "action": row.action, "target": row.target,
                                  "details": row.details})


def _content(row: AuditRow) -> dict[str, Any]:
    return {"at": utc_iso(row.at), "actor": row.actor, "action": row.action,
            "target": row.target, "details": row.details}


AUDIT: Chain[AuditRow] = Chain(name="audit", label_zh="审计记录", label_en="audit record",
                               model=AuditRow, content=_content, legacy_link=_legacy_link)


def record(
    session: Session, *, at: datetime, actor: str, action: str, target: str,
    details: dict[str, Any] | None = None,
) -> AuditRow:
    return append(session, AUDIT, AuditRow(at=at, actor=actor, action=action, target=target,
                                           details=details or {}))


def record_direct(
    session: Session, *, at: datetime, actor: str, action: str, target: str,
    details: dict[str, Any] | None = None, commit: bool = False,
) -> None:
    """:func:`record` when the caller needs nothing of the row back: the same row, chain and
    lock, inserted without the session's flush (``audit.chain.append_direct``). The pages
    that audit each view of personal data use it: the flush was most of their append.
    ``commit``: the unit of work ends with this row (its INSERT and COMMIT in one round
    trip on PostgreSQL)."""
    append_direct(session, AUDIT, AuditRow(at=at, actor=actor, action=action, target=target,
                                           details=details or {}), commit=commit)


def verify_chain(session: Session) -> int | None:
    """The id of the first audit row altered, out of place or missing (checkpoints are not
    consulted here: ``yibaodai audit verify`` does that), or None if the chain is intact."""
    problem = walk(session, AUDIT, session_chain_keys(session)).problem
    return None if problem is None else problem.record_id

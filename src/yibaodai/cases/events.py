"""Case events: the append-only, keyed hash-chained history of every case (who moved it from
which state to which, when, with what details). Every event goes through
:func:`append_case_event`; the database refuses UPDATE and DELETE on the table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibaodai.audit.chain import Chain, append, legacy_sm3, utc_iso
from yibaodai.db.models import CaseEventRow


def legacy_content(*, case_id: int, at: datetime, event: str, from_state: str | None,
                   to_state: str, actor_id: int | None, details: Any) -> dict[str, Any]:
    """What revision 0011 hashed (unkeyed) for the events that existed before it."""
    return {"case_id": case_id, "at": at.isoformat(), "event": event,
            "from_state": from_state, "to_state": to_state, "actor_id": actor_id,
            "details": details}


def _legacy_link(prev_hash: str, row: CaseEventRow) -> str:
    return legacy_sm3(prev_hash, legacy_content(
        case_id=row.case_id, at=row.at, event=row.event, from_state=row.from_state,
        to_state=row.to_state, actor_id=row.actor_id, details=row.details))


def _content(row: CaseEventRow) -> dict[str, Any]:
    return {"case_id": row.case_id, "at": utc_iso(row.at), "event": row.event,
            "from_state": row.from_state, "to_state": row.to_state,
            "actor_id": row.actor_id, "details": row.details}


CASE_EVENTS: Chain[CaseEventRow] = Chain(
    name="case-events", label_zh="案件事件", label_en="case event", model=CaseEventRow,
    content=_content, legacy_link=_legacy_link)


def append_case_event(session: Session, *, case_id: int, at: datetime, event: str,
                      from_state: str | None, to_state: str, actor_id: int | None,
                      details: dict[str, Any] | None = None) -> CaseEventRow:
    return append(session, CASE_EVENTS, CaseEventRow(
        case_id=case_id, at=at, event=event, from_state=from_state, to_state=to_state,
        actor_id=actor_id, details=details or {}))

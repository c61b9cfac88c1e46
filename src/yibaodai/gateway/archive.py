"""The raw-message archive: written and committed before any processing, SM3-chained so that
altering or deleting a record is detected by ``verify_archive``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import GENESIS
from yibaodai.db.locks import lock_for_append
from yibaodai.db.models import RawMessageRow
from yibaodai.protocol.sm3 import sm3_hex


def link_hash(prev_hash: str, msgid: str, received_at: datetime, body_sm3: str) -> str:
    return sm3_hex(f"{prev_hash}|{msgid}|{received_at.isoformat()}|{body_sm3}".encode())


def archive_message(
    session: Session, *, msgid: str, infno: str, key_id: str, fixmedins_code: str,
    body: bytes, received_at: datetime,
) -> RawMessageRow:
    lock_for_append(session, "raw_messages")
    # Only the previous link's hash: loading the whole previous row would fetch its body too
    # (megabytes for a large 8301 message).
    last = session.scalars(select(RawMessageRow.record_hash)
                           .order_by(RawMessageRow.id.desc()).limit(1)).first()
    prev = last if last is not None else GENESIS
    body_sm3 = sm3_hex(body)
    row = RawMessageRow(
        msgid=msgid, infno=infno, key_id=key_id, fixmedins_code=fixmedins_code,
        received_at=received_at, body=body, body_sm3=body_sm3,
        prev_hash=prev, record_hash=link_hash(prev, msgid, received_at, body_sm3),
    )
    session.add(row)
    session.flush()
    return row


def verify_archive(session: Session) -> int | None:
    """The id of the first altered record or broken link, or None when the chain is intact."""
    prev = GENESIS
    for row in session.scalars(select(RawMessageRow).order_by(RawMessageRow.id)):
        body_sm3 = sm3_hex(row.body)
        expected = link_hash(prev, row.msgid, row.received_at, body_sm3)
        if row.prev_hash != prev or body_sm3 != row.body_sm3 or row.record_hash != expected:
            return row.id
        prev = row.record_hash
    return None

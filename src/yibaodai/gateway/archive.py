"""The raw-message archive: written and committed before any processing, on a keyed hash
chain (``audit.chain``) so that altering or deleting a record is detected by
``verify_archive`` (and, with the signed checkpoints, by ``yibaodai archive verify``). The
database refuses UPDATE and DELETE on the table (``db.append_only``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibaodai.audit.chain import Chain, append, utc_iso, walk
from yibaodai.audit.keys import session_chain_keys
from yibaodai.db.models import RawMessageRow
from yibaodai.protocol.sm3 import sm3_hex


def link_hash(prev_hash: str, msgid: str, received_at: datetime, body_sm3: str) -> str:
    """The unkeyed link of records archived before revision 0011."""
    return sm3_hex(f"{prev_hash}|{msgid}|{received_at.isoformat()}|{body_sm3}".encode())


def _legacy_link(prev_hash: str, row: RawMessageRow) -> str:
    return link_hash(prev_hash, row.msgid, row.received_at, row.body_sm3)


def _content(row: RawMessageRow) -> dict[str, Any]:
    return {"msgid": row.msgid, "infno": row.infno, "key_id": row.key_id,
            "fixmedins_code": row.fixmedins_code, "received_at": utc_iso(row.received_at),
            "body_sm3": row.body_sm3}


def _body_intact(row: RawMessageRow) -> bool:
    return sm3_hex(row.body) == row.body_sm3


ARCHIVE: Chain[RawMessageRow] = Chain(
    name="archive", label_zh="归档报文", label_en="archive record", model=RawMessageRow,
    content=_content, legacy_link=_legacy_link, row_intact=_body_intact)


def archive_message(
    session: Session, *, msgid: str, infno: str, key_id: str, fixmedins_code: str,
    body: bytes, received_at: datetime,
) -> RawMessageRow:
    return append(session, ARCHIVE, RawMessageRow(
        msgid=msgid, infno=infno, key_id=key_id, fixmedins_code=fixmedins_code,
        received_at=received_at, body=body, body_sm3=sm3_hex(body)))


def verify_archive(session: Session) -> int | None:
    """The id of the first altered, out-of-place or missing record, or None when the chain
    is intact (checkpoints are consulted by ``yibaodai archive verify``)."""
    problem = walk(session, ARCHIVE, session_chain_keys(session)).problem
    return None if problem is None else problem.record_id

"""Gathering what ``yibaodai reconcile`` compares (``domain.reconciliation``): the outbox and
the gateway's archive from the bank's database, and each receiver's record of what it got,
read over the receiver's HTTP API (the simulators' ``GET /sim/received``: per idempotency
key, deliveries and applications). A receiver that cannot be read makes the report not ok:
an unverified delivery is not a verified one.

``since`` narrows the comparison to what happened from that moment on (``yibaodai reconcile
--since DATE``: from 00:00 Asia/Shanghai of that day): outbox rows created since then, and
messages archived since then. A receiver's record of a key the outbox queued before then is
left out with it; a key the outbox never queued at all is still *unexpected*."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.db.models import (
    DecisionRow,
    FundDisbursementRow,
    InstitutionEventRow,
    MessageOutcomeRow,
    OutboxRow,
    RawMessageRow,
    ReconciliationTotalRow,
    SettlementFactRow,
)
from yibaodai.db.session import Database
from yibaodai.domain.reconciliation import Push, Queued, Recorded, report
from yibaodai.errors import YibaodaiError
from yibaodai.protocol.envelope import open_request
from yibaodai.protocol.keys import KeyRing

#: Push kinds whose rows carry their ``msgid``: the table, and the answer's count of the rows
#: the message stored (8303 repeats of a known disbursement are acknowledged, not stored).
ROWS_BY_MSGID: dict[str, tuple[Any, str]] = {
    "8301": (SettlementFactRow, "accepted_rows"),
    "8202": (InstitutionEventRow, "accepted_rows"),
    "8302": (ReconciliationTotalRow, "accepted_rows"),
    "8303": (FundDisbursementRow, "new_rows"),
}
RECORDS_PATH = "/sim/received"


def records_url(receiving_url: str) -> str:
    """The record endpoint beside a receiver's ``callService`` URL (same origin)."""
    parts = urlsplit(receiving_url)
    return f"{parts.scheme}://{parts.netloc}{RECORDS_PATH}"


def read_receiver(url: str, *, timeout: float = 30.0) -> list[Recorded]:
    """A receiver's record of every key it was sent. Raises ``httpx.HTTPError``."""
    answer = httpx.get(url, timeout=timeout)
    answer.raise_for_status()
    return [Recorded(idempotency_key=key, deliveries=int(r["deliveries"]),
                     applied=int(r["applied"]))
            for key, r in answer.json()["received"].items()]


def _queued(session: Session, since: datetime | None) -> tuple[list[Queued], set[str]]:
    """The outbox rows created since ``since`` (all without it), and the keys of the rows
    created before it."""
    queued: list[Queued] = []
    earlier: set[str] = set()
    for d, k, s, created in session.execute(select(
            OutboxRow.destination, OutboxRow.idempotency_key, OutboxRow.status,
            OutboxRow.created_at)):
        if since is not None and created < since:
            earlier.add(k)
        else:
            queued.append(Queued(destination=d, idempotency_key=k, status=s))
    return queued, earlier


def _replaced(session: Session, msgid: str, ring: KeyRing | None) -> bool:
    """Whether every 8301 row of ``msgid`` that is not stored under it is stored under a later
    message (the bureau's correction replaces rows by key). Read from the archived message
    itself, so only for the rare message that comes up short; without the bank's keys, no."""
    if ring is None:
        return False
    body = session.scalars(select(RawMessageRow.body).where(RawMessageRow.msgid == msgid)).one()
    try:
        rows = open_request(body, keyring=ring).input.get("data") or []
    except YibaodaiError:
        return False
    wanted = {(r["fixmedins_code"], date.fromisoformat(r["setl_date"]), r["insutype"],
               r["clr_type"]) for r in rows}
    found = session.execute(select(
        SettlementFactRow.fixmedins_code, SettlementFactRow.setl_date,
        SettlementFactRow.insutype, SettlementFactRow.clr_type)
        .where(SettlementFactRow.fixmedins_code.in_({k[0] for k in wanted}),
               SettlementFactRow.setl_date.in_({k[1] for k in wanted}))).all()
    stored = {tuple(r) for r in found}
    return wanted <= stored  # each key is there, under this message or a later one


def _pushes(session: Session, ring: KeyRing | None, since: datetime | None) -> list[Push]:
    stored: dict[str, dict[str, int]] = {}
    for infno, (table, _) in ROWS_BY_MSGID.items():
        stored[infno] = dict(session.execute(  # type: ignore[arg-type]
            select(table.source_msgid, func.count()).group_by(table.source_msgid)).all())
    decisions = set(session.scalars(select(DecisionRow.id)))
    query = (select(RawMessageRow.msgid, RawMessageRow.infno, MessageOutcomeRow.infcode,
                    MessageOutcomeRow.response)
             .outerjoin(MessageOutcomeRow, MessageOutcomeRow.msgid == RawMessageRow.msgid)
             .order_by(RawMessageRow.id))
    if since is not None:
        query = query.where(RawMessageRow.received_at >= since)
    archived = session.execute(query).all()
    pushes = []
    for msgid, infno, infcode, response in archived:
        output: Mapping[str, Any] = (response or {}).get("output") or {}
        counted = ROWS_BY_MSGID.get(infno)
        expected = None if counted is None else int(output.get(counted[1], 0))
        found = stored.get(infno, {}).get(msgid, 0)
        decision = output.get("decision") or {}
        decision_id = decision.get("id") if isinstance(decision, dict) else None
        pushes.append(Push(
            msgid=msgid, infno=infno, answered=infcode is not None, accepted=infcode == 0,
            expected_rows=expected, stored_rows=found,
            superseded=(infno == "8301" and infcode == 0 and expected is not None
                        and found < expected and _replaced(session, msgid, ring)),
            decision_id=decision_id,
            decision_found=decision_id is None or decision_id in decisions))
    return pushes


def reconcile(db: Database, *, receivers: Mapping[str, str],
              keyring: KeyRing | None = None,
              since: datetime | None = None) -> dict[str, Any]:
    """The report of ``domain.reconciliation.report``; ``receivers``: destination -> record
    URL. An unreadable receiver is listed under ``unreachable`` and makes it not ok.
    ``keyring``: the bank's, to read an archived settlement message that comes up short and
    tell rows a later message replaced from rows lost (without it, short is missing).
    ``since``: compare only what happened from then on (module docstring)."""
    recorded: dict[str, list[Recorded]] = {}
    unreachable: dict[str, str] = {}
    for destination, url in sorted(receivers.items()):
        try:
            recorded[destination] = read_receiver(url)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            unreachable[destination] = f"{type(exc).__name__}: {exc}"[:300]
    with db.unit_of_work() as session:
        (queued, earlier), pushes = _queued(session, since), _pushes(session, keyring, since)
    if earlier:
        recorded = {d: [r for r in rs if r.idempotency_key not in earlier]
                    for d, rs in recorded.items()}
    result = report([q for q in queued if q.destination not in unreachable], recorded, pushes)
    if unreachable:
        result["ok"] = False
    result["unreachable"] = unreachable
    result["since"] = since.isoformat() if since is not None else None
    return result


__all__ = ["RECORDS_PATH", "read_receiver", "reconcile", "records_url"]

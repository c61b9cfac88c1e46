"""Gathering what ``yibaodai reconcile`` compares (``domain.reconciliation``): the outbox and
the gateway's archive from the bank's database, and each receiver's record of what it got,
read over the receiver's HTTP API (the simulators' ``GET /sim/received``: per idempotency
key, deliveries and applications). A receiver that cannot be read makes the report not ok:
an unverified delivery is not a verified one."""

from __future__ import annotations

from collections.abc import Mapping
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

#: Push kinds whose rows carry their ``msgid``: the table, and the answer's count of the rows
#: the message stored (8303 repeats of a known disbursement are acknowledged, not stored).
ROWS_BY_MSGID: dict[str, tuple[Any, str]] = {
    "8301": (SettlementFactRow, "accepted_rows"),
    "8202": (InstitutionEventRow, "accepted_rows"),
    "8302": (ReconciliationTotalRow, "accepted_rows"),
    "8303": (FundDisbursementRow, "new_rows"),
}
#: Kinds whose later message replaces the same institution's earlier rows (8301 by key).
REPLACING = frozenset({"8301"})
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


def _queued(session: Session) -> list[Queued]:
    return [Queued(destination=d, idempotency_key=k, status=s) for d, k, s in session.execute(
        select(OutboxRow.destination, OutboxRow.idempotency_key, OutboxRow.status))]


def _pushes(session: Session) -> list[Push]:
    stored: dict[str, dict[str, int]] = {}
    for infno, (table, _) in ROWS_BY_MSGID.items():
        stored[infno] = dict(session.execute(  # type: ignore[arg-type]
            select(table.source_msgid, func.count()).group_by(table.source_msgid)).all())
    decisions = set(session.scalars(select(DecisionRow.id)))
    archived = session.execute(
        select(RawMessageRow.id, RawMessageRow.msgid, RawMessageRow.infno,
               RawMessageRow.fixmedins_code, MessageOutcomeRow.infcode,
               MessageOutcomeRow.response)
        .outerjoin(MessageOutcomeRow, MessageOutcomeRow.msgid == RawMessageRow.msgid)
        .order_by(RawMessageRow.id)).all()
    last_accepted: dict[tuple[str, str], int] = {
        (infno, code): row_id for row_id, _, infno, code, infcode, _ in archived
        if infcode == 0}
    pushes = []
    for row_id, msgid, infno, code, infcode, response in archived:
        output: Mapping[str, Any] = (response or {}).get("output") or {}
        counted = ROWS_BY_MSGID.get(infno)
        decision = output.get("decision") or {}
        decision_id = decision.get("id") if isinstance(decision, dict) else None
        pushes.append(Push(
            msgid=msgid, infno=infno, answered=infcode is not None, accepted=infcode == 0,
            expected_rows=None if counted is None else int(output.get(counted[1], 0)),
            stored_rows=stored.get(infno, {}).get(msgid, 0),
            superseded=infno in REPLACING and last_accepted.get((infno, code), row_id) > row_id,
            decision_id=decision_id,
            decision_found=decision_id is None or decision_id in decisions))
    return pushes


def reconcile(db: Database, *, receivers: Mapping[str, str]) -> dict[str, Any]:
    """The report of ``domain.reconciliation.report``; ``receivers``: destination -> record
    URL. An unreadable receiver is listed under ``unreachable`` and makes it not ok."""
    recorded: dict[str, list[Recorded]] = {}
    unreachable: dict[str, str] = {}
    for destination, url in sorted(receivers.items()):
        try:
            recorded[destination] = read_receiver(url)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            unreachable[destination] = f"{type(exc).__name__}: {exc}"[:300]
    with db.unit_of_work() as session:
        queued, pushes = _queued(session), _pushes(session)
    result = report([q for q in queued if q.destination not in unreachable], recorded, pushes)
    if unreachable:
        result["ok"] = False
    result["unreachable"] = unreachable
    return result


__all__ = ["RECORDS_PATH", "read_receiver", "reconcile", "records_url"]

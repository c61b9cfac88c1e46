"""Reconciliation (对账): did every message reach its receiver exactly once, and was every
accepted push stored exactly once? Pure comparison of facts gathered elsewhere
(``ops.reconcile`` reads the database and the receivers' records).

* **Outbound.** Per receiver, the bank's outbox (idempotency key -> status) against what the
  receiver recorded (key -> deliveries, applications). A key the bank marked sent that the
  receiver never recorded is *missing*; a key the receiver applied more than once is a
  *duplicate*; a key the receiver has that the outbox never queued is *unexpected*. A repeat
  delivery that the receiver answered from its first answer (``redelivered``) is how retries
  after a crash look, and is fine. A dead letter is not ok until someone retries it.
* **Inbound.** Per push kind (``infno``), every message the gateway archived and accepted
  against what its processing stored: rows carrying its ``msgid`` (settlement rows, bureau
  events...) against the rows its answer says it accepted, and the decision its answer names.
  Fewer is *missing*, more is *duplicated*; a message archived but never answered is
  *unanswered* (its sender's retry processes it). Settlement rows a later message of the same
  institution replaced are *superseded*, not missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Queued:
    """One outbox row: where to, its key, its status (pending, sent, dead)."""

    destination: str
    idempotency_key: str
    status: str


@dataclass(frozen=True)
class Recorded:
    """What a receiver recorded of one key: how often it was posted and how often applied."""

    idempotency_key: str
    deliveries: int
    applied: int


@dataclass(frozen=True)
class Push:
    """One archived message. ``answered``: an outcome was stored; ``accepted``: it was 0.
    ``expected_rows``: the rows its answer says were accepted, when the kind stores rows by
    ``msgid`` (None otherwise); ``stored_rows``: rows found carrying its ``msgid``;
    ``superseded``: a later accepted message may have replaced its rows.
    ``decision_id`` / ``decision_found``: the decision its answer names, and whether it is
    stored."""

    msgid: str
    infno: str
    answered: bool
    accepted: bool
    expected_rows: int | None = None
    stored_rows: int = 0
    superseded: bool = False
    decision_id: int | None = None
    decision_found: bool = True


def outbound(queued: Iterable[Queued],
             recorded: Mapping[str, Iterable[Recorded]]) -> dict[str, dict[str, Any]]:
    """Per receiver (every destination in either input): counts and the keys at fault."""
    by_destination: dict[str, list[Queued]] = defaultdict(list)
    for q in queued:
        by_destination[q.destination].append(q)
    out: dict[str, dict[str, Any]] = {}
    for destination in sorted(set(by_destination) | set(recorded)):
        rows = by_destination.get(destination, [])
        seen = {r.idempotency_key: r for r in recorded.get(destination, [])}
        status = {q.idempotency_key: q.status for q in rows}
        sent = sorted(k for k, s in status.items() if s == "sent")
        missing = [k for k in sent if k not in seen or seen[k].applied == 0]
        duplicates = sorted(k for k, r in seen.items() if r.applied > 1)
        unexpected = sorted(k for k in seen if k not in status)
        out[destination] = {
            "queued": len(rows), "sent": len(sent),
            "pending": sum(s == "pending" for s in status.values()),
            "dead": sum(s == "dead" for s in status.values()),
            "received": sum(r.applied > 0 for r in seen.values()),
            "deliveries": sum(r.deliveries for r in seen.values()),
            "redelivered": sum(r.deliveries > 1 for r in seen.values()),
            "missing": len(missing), "duplicates": len(duplicates),
            "unexpected": len(unexpected),
            "faults": {"missing": missing[:20], "duplicates": duplicates[:20],
                       "unexpected": unexpected[:20]},
        }
        out[destination]["ok"] = not (missing or duplicates or unexpected
                                      or out[destination]["dead"])
    return out


def inbound(pushes: Iterable[Push]) -> dict[str, dict[str, Any]]:
    """Per push kind: archived, accepted, stored, missing, duplicated, unanswered."""
    out: dict[str, dict[str, Any]] = {}
    for p in pushes:
        kind = out.setdefault(p.infno, {
            "archived": 0, "accepted": 0, "refused": 0, "unanswered": 0, "stored": 0,
            "superseded": 0, "missing": 0, "duplicated": 0, "rows_expected": 0,
            "rows_stored": 0, "faults": []})
        kind["archived"] += 1
        if not p.answered:
            kind["unanswered"] += 1
            kind["faults"].append({"msgid": p.msgid, "fault": "unanswered"})
            continue
        if not p.accepted:
            kind["refused"] += 1
            continue
        kind["accepted"] += 1
        fault = _fault(p)
        if fault is None:
            kind["stored"] += 1
        elif fault == "superseded":
            kind["superseded"] += 1
        else:
            kind[fault] += 1
            kind["faults"].append({"msgid": p.msgid, "fault": fault})
        if p.expected_rows is not None:
            kind["rows_expected"] += p.expected_rows
            kind["rows_stored"] += p.stored_rows
    for kind in out.values():
        kind["faults"] = kind["faults"][:20]
        kind["ok"] = not (kind["missing"] or kind["duplicated"] or kind["unanswered"])
    return dict(sorted(out.items()))


def _fault(p: Push) -> str | None:
    """None when stored exactly once; else missing, duplicated or superseded."""
    if p.decision_id is not None and not p.decision_found:
        return "missing"
    if p.expected_rows is None or p.stored_rows == p.expected_rows:
        return None
    if p.stored_rows > p.expected_rows:
        return "duplicated"
    return "superseded" if p.superseded else "missing"


def report(queued: Iterable[Queued], recorded: Mapping[str, Iterable[Recorded]],
           pushes: Iterable[Push]) -> dict[str, Any]:
    """The whole reconciliation; ``ok`` only when every receiver and every kind is."""
    receivers = outbound(queued, recorded)
    kinds = inbound(pushes)
    ok = all(r["ok"] for r in receivers.values()) and all(k["ok"] for k in kinds.values())
    return {"ok": ok, "receivers": receivers, "pushes": kinds}


__all__ = ["Push", "Queued", "Recorded", "inbound", "outbound", "report"]

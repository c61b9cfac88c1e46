"""External sources (外部数据): what others know of a borrower — tax-declared revenue, business
registration status, court enforcement lists — checked against the warning rules (W09).

A source is anything with a ``name`` and ``facts(uscc=..., since=..., today=...)`` (the
:class:`ExternalSource` protocol): adding the tax bureau's feed or the registration
authority's is one class. :class:`CourtEnforcementSource` reads a court-enforcement list
over HTTP (the simulator in ``sim.court`` speaks the same JSON). :func:`fetch_external`
asks every source about every monitored borrower, stores each new fact once
(``external_facts``) and returns ``ExternalFactRecorded`` events; their deferred handler runs
the rules for that borrower (``flow.handlers``), so a fact becomes a warning the same way a
bureau event does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import CaseRow, ExternalFactRow, InstitutionRow
from yibaodai.domain.case import CaseState
from yibaodai.domain.events import ExternalFactRecorded
from yibaodai.domain.ews.rules import EXTERNAL_LEVEL

#: the cases whose borrowers are watched: reported to head office, or drawn
MONITORED = (CaseState.REPORTED.value, CaseState.DRAWN.value)


@dataclass(frozen=True)
class ExternalFact:
    """One thing a source reports: a ``kind`` the rules know (``EXTERNAL_LEVEL``), its day
    and what the staff should read (``details``, with a short ``note``)."""

    kind: str
    fact_date: date
    details: dict[str, Any] = field(default_factory=dict)


class ExternalSource(Protocol):
    name: str

    def facts(self, *, uscc: str, since: date, today: date) -> list[ExternalFact]:
        """What the source knows of the institution with ``uscc`` between the two days."""
        ...


class CourtEnforcementSource:
    """The court-enforcement list (法院被执行人 / 失信被执行人) over HTTP:
    ``GET {url}/court/enforcement?uscc=..`` answers ``{"records": [{"case_no", "filed_on",
    "amount", "status": "enforcement" | "dishonest"}]}``."""

    name = "court"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def facts(self, *, uscc: str, since: date, today: date) -> list[ExternalFact]:
        r = self._client.get(f"{self.url}/court/enforcement", params={"uscc": uscc})
        r.raise_for_status()
        out = []
        for rec in r.json().get("records", []):
            day = date.fromisoformat(str(rec["filed_on"]))
            if not since <= day <= today:
                continue
            kind = "court_dishonest" if rec.get("status") == "dishonest" else "court_enforcement"
            out.append(ExternalFact(kind, day, {
                "case_no": str(rec.get("case_no", ""))[:60],
                "amount": str(rec.get("amount", "")),
                "note": f"{rec.get('case_no', '')} 标的 {rec.get('amount', '')} 元"}))
        return out

    def close(self) -> None:
        self._client.close()


def fetch_external(session: Session, sources: Sequence[ExternalSource], *, now: datetime,
                   ) -> list[ExternalFactRecorded]:
    """Ask every source about every monitored borrower (reported or drawn cases) since its
    case began; store what is new, once. Returns the events for the new facts."""
    events: list[ExternalFactRecorded] = []
    today = now.date()
    for case in session.scalars(select(CaseRow).where(CaseRow.state.in_(MONITORED))
                                .order_by(CaseRow.id)):
        inst = session.get(InstitutionRow, case.fixmedins_code)
        if inst is None or not inst.uscc:
            continue
        for source in sources:
            for fact in source.facts(uscc=inst.uscc, since=case.assigned_at.date(),
                                     today=today):
                if fact.kind not in EXTERNAL_LEVEL:
                    continue  # a kind the rules do not know is not stored
                exists = session.scalars(select(ExternalFactRow.id).where(
                    ExternalFactRow.source == source.name,
                    ExternalFactRow.fixmedins_code == case.fixmedins_code,
                    ExternalFactRow.kind == fact.kind,
                    ExternalFactRow.fact_date == fact.fact_date)).first()
                if exists is not None:
                    continue
                session.add(ExternalFactRow(
                    source=source.name, fixmedins_code=case.fixmedins_code, kind=fact.kind,
                    fact_date=fact.fact_date, details=fact.details, received_at=now))
                events.append(ExternalFactRecorded(
                    at=now, fixmedins_code=case.fixmedins_code, source=source.name,
                    kind=fact.kind, fact_date=fact.fact_date))
    session.flush()
    return events


def external_history(session: Session, fixmedins_code: str, *, since: date,
                     today: date) -> list[dict[str, Any]]:
    """The stored facts of one borrower as the rules read them (``extra["external"]``)."""
    return [{"source": f.source, "kind": f.kind, "fact_date": f.fact_date.isoformat(),
             "note": str(f.details.get("note", ""))}
            for f in session.scalars(select(ExternalFactRow).where(
                ExternalFactRow.fixmedins_code == fixmedins_code,
                ExternalFactRow.fact_date >= since, ExternalFactRow.fact_date <= today)
                .order_by(ExternalFactRow.fact_date, ExternalFactRow.id))]


__all__ = ["CourtEnforcementSource", "ExternalFact", "ExternalSource", "external_history",
           "fetch_external"]

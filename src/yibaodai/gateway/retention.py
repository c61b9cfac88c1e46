"""Retention of bureau data after an institution's authorizations end.

The rule (documented in docs/interface.md §10) is pure and takes the clock's ``now``:

* An institution's relationship with the bank *ends* when every authorization it ever gave is
  revoked or expired. An authorization ends at ``revoked_at``, or at 00:00 (Asia/Shanghai) of
  the day after its ``enddate``, whichever is earlier. The relationship ends at the latest of
  these; while any authorization is still running (or not begun) it has not ended.
* After the end the data is kept for :data:`KEEP_WITH_CASE` (5 calendar years) when the bank
  ever opened a case for the institution (a case is where a loan comes from: regulatory record
  keeping of customer and transaction data for at least five years after the business
  relationship ends), else for :data:`KEEP_WITHOUT_CASE` (180 days: time to answer complaints
  and the bureau's queries, then nothing is kept that the bank no longer needs).
* When that time has passed, ``retention apply`` deletes the institution's settlement facts
  (8301), reconciliation totals (8302) and their data-quality flags, fund disbursements (8303)
  and events (8202); the institution profile (8201) too when there never was a case (cases
  show it). It never deletes the raw-message archive (SM3-chained evidence of what the bureau
  sent: deleting a record breaks the chain that proves nothing was altered; it holds the sealed,
  encrypted envelope), the authorizations (proof of consent and of its revocation), the
  admission decisions (immutable, kept with their inputs so every credit decision can be
  explained and replayed) or the audit log. Every deletion writes one audit row.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuthorizationRow,
    CaseRow,
    DataQualityFlagRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    ReconciliationTotalRow,
    SettlementFactRow,
    SettlementMonthRow,
)
from yibaodai.db.session import Database
from yibaodai.gateway import quarantine

KEEP_WITH_CASE_YEARS = 5
KEEP_WITHOUT_CASE = timedelta(days=180)
RETENTION_ACTOR = "system:retention"

#: What goes, table by table (the profile only when there never was a case).
DELETED_TABLES: dict[str, Any] = {
    "settlement_facts": SettlementFactRow,
    "settlement_months": SettlementMonthRow,
    "reconciliation_totals": ReconciliationTotalRow,
    "data_quality_flags": DataQualityFlagRow,
    "fund_disbursements": FundDisbursementRow,
    "institution_events": InstitutionEventRow,
}


@dataclass(frozen=True)
class AuthorizationSpan:
    begndate: date
    enddate: date
    revoked_at: datetime | None


def authorization_end(span: AuthorizationSpan) -> datetime:
    """When one authorization stops: revocation, or the start of the day after ``enddate``."""
    expiry = datetime.combine(span.enddate + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return expiry if span.revoked_at is None else min(span.revoked_at, expiry)


def relationship_end(spans: list[AuthorizationSpan], now: datetime) -> datetime | None:
    """When the last authorization ended, or None while any runs (or there is none)."""
    if not spans:
        return None
    ends = [authorization_end(s) for s in spans]
    if any(e > now for e in ends):
        return None
    return max(ends)


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar moment ``years`` later (29 February -> 28 February)."""
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def keep_until(ended: datetime, *, had_case: bool) -> datetime:
    return add_years(ended, KEEP_WITH_CASE_YEARS) if had_case else ended + KEEP_WITHOUT_CASE


@dataclass(frozen=True)
class Verdict:
    """The rule's answer for one institution at ``now``."""

    fixmedins_code: str
    had_case: bool
    ended_at: datetime | None
    keep_until: datetime | None

    def due(self, now: datetime) -> bool:
        return self.keep_until is not None and now >= self.keep_until


def judge(code: str, spans: list[AuthorizationSpan], *, had_case: bool,
          now: datetime) -> Verdict:
    """Pure: whether (and from when) ``code``'s data may be deleted at ``now``."""
    ended = relationship_end(spans, now)
    return Verdict(code, had_case, ended,
                   None if ended is None else keep_until(ended, had_case=had_case))


# ----------------------------------------------------------------------- applying the rule


@dataclass
class Deletion:
    verdict: Verdict
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _counts(session: Session, code: str, *, with_profile: bool) -> dict[str, int]:
    out = {name: int(session.scalar(select(func.count()).select_from(model).where(
        model.fixmedins_code == code)) or 0) for name, model in DELETED_TABLES.items()}
    if with_profile:
        out["institutions"] = 1 if session.get(InstitutionRow, code) is not None else 0
    return out


def plan(session: Session, now: datetime) -> list[Deletion]:
    """Institutions whose retention has run out at ``now`` and that still hold data."""
    spans: dict[str, list[AuthorizationSpan]] = {}
    for a in session.scalars(select(AuthorizationRow).order_by(AuthorizationRow.id)):
        spans.setdefault(a.fixmedins_code, []).append(
            AuthorizationSpan(a.begndate, a.enddate, a.revoked_at))
    with_cases = set(session.scalars(select(CaseRow.fixmedins_code).distinct()))
    out: list[Deletion] = []
    for code in sorted(spans):
        verdict = judge(code, spans[code], had_case=code in with_cases, now=now)
        if not verdict.due(now):
            continue
        item = Deletion(verdict, _counts(session, code, with_profile=not verdict.had_case))
        if item.total:
            out.append(item)
    return out


def apply(db: Database, *, now: datetime, dry_run: bool = False) -> list[Deletion]:
    """Delete what :func:`plan` finds (one transaction, one audit row per institution);
    ``dry_run`` only reports it."""
    with db.unit_of_work() as session:
        items = plan(session, now)
        if dry_run:
            return items
        for item in items:
            v = item.verdict
            code = v.fixmedins_code
            for model in DELETED_TABLES.values():
                session.execute(delete(model).where(model.fixmedins_code == code))
            if not v.had_case:
                session.execute(delete(InstitutionRow).where(
                    InstitutionRow.fixmedins_code == code))
            assert v.ended_at is not None and v.keep_until is not None
            record(session, at=now, actor=RETENTION_ACTOR, action="retention.delete",
                   target=code, details={
                       "deleted": item.counts, "had_case": v.had_case,
                       "relationship_ended_at": v.ended_at.isoformat(),
                       "kept_until": v.keep_until.isoformat(),
                       "rule": (f"{KEEP_WITH_CASE_YEARS} years after the last authorization "
                                "ended with a case, "
                                f"{KEEP_WITHOUT_CASE.days} days without"),
                   })
        pruned = quarantine.prune(session, now=now)
        if any(pruned.values()):
            record(session, at=now, actor=RETENTION_ACTOR, action="retention.quarantine",
                   target="quarantine", details={**pruned, "rule": (
                       f"anonymous refusals after {quarantine.ANONYMOUS_DAYS} days, "
                       f"peers' bodies after {quarantine.BODY_DAYS} days (record kept)")})
        session.commit()
    return items

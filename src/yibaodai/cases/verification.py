"""The on-site findings beside the bureau's data: the bureau's values of a case's
institution, the findings a verification records, and whether mismatches still block the
sign-off (none recorded, or overridden by a department manager since)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import CaseEventRow, CaseRow, InstitutionRow
from yibaodai.domain.verification import FIELDS, compare, mismatches
from yibaodai.errors import FieldError, ValidationFailed

OVERRIDE_EVENT = "mismatch_override"
MAX_FOUND = 300


def bureau_values(inst: InstitutionRow) -> dict[str, str | None]:
    """The bureau's value of each verified field, from the stored institution profile."""
    return {"uscc": inst.uscc, "name": inst.fixmedins_name,
            "legal_representative": inst.legrep_name,
            "licence_expiry": inst.endtime.isoformat() if inst.endtime else None,
            "address": inst.addr, "settlement_account": inst.bankacct,
            "operating_status": inst.biz_stas}


def check_findings(found: dict[str, str]) -> None:
    """Refuse unknown fields and over-long values, field by field."""
    errors = [FieldError(f"findings.{k}", "未知项目", "unknown item") for k in found
              if k not in FIELDS]
    errors += [FieldError(f"findings.{k}", f"最多{MAX_FOUND}字", f"at most {MAX_FOUND} chars")
               for k, v in found.items() if k in FIELDS and len(v) > MAX_FOUND]
    if errors:
        raise ValidationFailed("现场核实记录有误", "invalid on-site findings",
                               code="invalid_findings", fields=errors)


def findings_details(session: Session, case: CaseRow,
                     found: dict[str, str]) -> dict[str, Any]:
    """What the verification event keeps: each finding beside the bureau's value, and the
    fields that differ."""
    inst = session.get(InstitutionRow, case.fixmedins_code)
    assert inst is not None
    findings = compare(found, bureau_values(inst))
    return {"findings": [{"field": f.field, "found": f.found, "bureau": f.bureau,
                          "match": f.matches} for f in findings],
            "mismatches": mismatches(findings)}


MISMATCH_EVENTS = ("verify_pass", "verify_fail", OVERRIDE_EVENT)


def outstanding_mismatches(session: Session, case: CaseRow) -> list[str]:
    """The latest verification's mismatched fields, unless overridden after it."""
    latest = session.scalars(select(CaseEventRow).where(
        CaseEventRow.case_id == case.id, CaseEventRow.event.in_(MISMATCH_EVENTS))
        .order_by(CaseEventRow.id.desc()).limit(1)).first()
    return mismatches_after(latest)


class EventRead(Protocol):
    """What the refusals read of a case event: a ``CaseEventRow``, or a page's row of its
    columns (``reports.case_detail`` reads only those it shows)."""

    @property
    def id(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def details(self) -> dict[str, Any]: ...


class DecisionRead(Protocol):
    """What the refusals read of the latest decision: a ``DecisionRow``, or a page's row."""

    @property
    def id(self) -> int: ...
    @property
    def result(self) -> str: ...


def outstanding_in(events: Sequence[EventRead]) -> list[str]:
    """``outstanding_mismatches`` from the case's events already read (any order)."""
    relevant = [e for e in events if e.event in MISMATCH_EVENTS]
    return mismatches_after(max(relevant, key=lambda e: e.id) if relevant else None)


def mismatches_after(latest: EventRead | None) -> list[str]:
    if latest is None or latest.event == OVERRIDE_EVENT:
        return []
    return [str(f) for f in latest.details.get("mismatches", [])]


@dataclass(frozen=True)
class CaseRead:
    """What a page already read of one case: its events (any order) and its institution's
    latest decision. The refusals (``cases.service.confirm_refusal``,
    ``cases.overrides.override_refusal``) take it so that the case page, which shows both,
    does not ask the database for them again to decide its buttons."""

    events: Sequence[EventRead]
    latest: DecisionRead

    def last_actor(self, event: str) -> int | None:
        """Who last performed ``event`` (its latest by id, as the query in the service
        orders), or None."""
        done = [e for e in self.events if e.event == event]
        return max(done, key=lambda e: e.id).actor_id if done else None

    def mismatches(self) -> list[str]:
        return outstanding_in(self.events)

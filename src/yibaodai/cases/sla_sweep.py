"""The SLA sweep: finds missed claim/verification deadlines and penalises the sub-branch, so
its districts' new cases go to the next-nearest sub-branch for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.db.models import CaseRow, SlaPenaltyRow
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import CaseState
from yibaodai.domain.sla import find_breach, penalty_until


def sweep(session: Session, *, now: datetime,
          calendar: WorkingDayCalendar | None = None) -> list[SlaPenaltyRow]:
    cal = calendar or WorkingDayCalendar()
    open_states = [CaseState.ASSIGNED.value, CaseState.CLAIMED.value, CaseState.VERIFIED.value,
                   CaseState.REJECTED.value]
    penalties: list[SlaPenaltyRow] = []
    for case in session.scalars(select(CaseRow).where(CaseRow.state.in_(open_states))):
        breach = find_breach(assigned_at=case.assigned_at, claimed_at=case.claimed_at,
                             verified_at=case.verified_at, now=now, cal=cal)
        if breach is None:
            continue
        exists = session.scalars(select(SlaPenaltyRow).where(
            SlaPenaltyRow.case_id == case.id, SlaPenaltyRow.kind == breach.kind)).first()
        if exists:
            continue
        row = SlaPenaltyRow(sub_branch_code=case.sub_branch_code, case_id=case.id,
                            kind=breach.kind, deadline=breach.deadline,
                            detected_at=breach.detected_at, until=penalty_until(breach))
        session.add(row)
        audit(session, at=now, actor="system", action="sla.breach", target=f"case:{case.id}",
              details={"kind": breach.kind, "deadline": breach.deadline.isoformat(),
                       "sub_branch": case.sub_branch_code})
        penalties.append(row)
    session.flush()
    return penalties

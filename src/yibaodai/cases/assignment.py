"""Assigning an admitted institution's case to the nearest sub-branch serving its district,
skipping sub-branches under an SLA penalty (late sub-branches lose new cases).

The district is the bureau's area code unless the registered address names another one or
the code is missing (``domain.address.read_district``); distance is measured from the
institution's coordinates or, without them, from the district's centre; sub-branches about
as near as each other split by their open cases. The ``assigned`` event keeps why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.cases.events import append_case_event
from yibaodai.cases.penalties import penalised_sub_branches
from yibaodai.cases.sla_policy import bank_calendar
from yibaodai.db.models import (
    CaseRow,
    DecisionRow,
    InstitutionRow,
    SubBranchRow,
)
from yibaodai.domain.address import district_centre, read_district
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import CaseState
from yibaodai.domain.codes import institution_code_area
from yibaodai.domain.organisation import Branch, SubBranch, choose_sub_branch
from yibaodai.domain.sla import claim_deadline
from yibaodai.errors import ConfigurationError


def branch_from_db(session: Session) -> Branch:
    rows = session.scalars(select(SubBranchRow).order_by(SubBranchRow.code)).all()
    subs = tuple(SubBranch(
        code=r.code, name_zh=r.name_zh, name_en=r.name_en, address=r.address, phone=r.phone,
        latitude=r.latitude, longitude=r.longitude, districts=tuple(r.districts)) for r in rows)
    return Branch(code="DL000", name_zh="大连分行", name_en="Dalian Branch", sub_branches=subs)


#: Case states after which an institution has no open case (a new admission opens a new one).
CLOSED_STATES = (CaseState.REJECTED.value, CaseState.HO_REJECTED.value,
                 CaseState.CLOSED.value)


def open_case(session: Session, code: str) -> CaseRow | None:
    """The institution's open case, if any. A re-evaluation of an institution that has one
    keeps it (and its sub-branch); the new decision and answer are recorded beside it."""
    return session.scalars(select(CaseRow).where(
        CaseRow.fixmedins_code == code, CaseRow.state.not_in(CLOSED_STATES))
        .order_by(CaseRow.id.desc()).limit(1)).first()


def open_load(session: Session) -> dict[str, int]:
    """Open cases (assigned or claimed: still waiting on the sub-branch) per sub-branch."""
    rows = session.execute(select(CaseRow.sub_branch_code, func.count()).where(
        CaseRow.state.in_((CaseState.ASSIGNED.value, CaseState.CLAIMED.value)))
        .group_by(CaseRow.sub_branch_code)).all()
    return {code: int(n) for code, n in rows}


def assign_case(
    session: Session, *, decision: DecisionRow, inst: InstitutionRow, now: datetime,
    calendar: WorkingDayCalendar | None = None,
) -> CaseRow:
    cal = calendar or bank_calendar()
    reading = read_district(area_code=inst.area_code, address=inst.addr,
                            institution_code_area=institution_code_area(inst.fixmedins_code))
    district = reading.district
    excluded = penalised_sub_branches(session, now)
    lat, lon, measured_from = inst.latitude, inst.longitude, "institution"
    if lat is None or lon is None:
        centre = district_centre(district)
        lat, lon = centre if centre is not None else (None, None)
        measured_from = "district_centre" if centre is not None else "file_order"
    load = open_load(session)
    chosen = choose_sub_branch(branch_from_db(session), district=district, latitude=lat,
                               longitude=lon, excluded=excluded, open_load=load)
    if chosen is None:
        raise ConfigurationError("没有可分配的支行", "no sub-branch can take new cases",
                                 code="no_sub_branch")
    case = CaseRow(
        fixmedins_code=inst.fixmedins_code, decision_id=decision.id,
        sub_branch_code=chosen.code, state=CaseState.ASSIGNED.value,
        credit_limit=decision.credit_limit, assigned_at=now,
        claim_deadline=claim_deadline(now, cal),
    )
    session.add(case)
    session.flush()
    append_case_event(
        session, case_id=case.id, at=now, event="assigned", from_state=None,
        to_state=CaseState.ASSIGNED.value, actor_id=None,
        details={"sub_branch": chosen.code, "district": district,
                 "district_source": reading.source, "area_code": reading.area_code,
                 "address_district": reading.parsed, "measured_from": measured_from,
                 "open_load": load.get(chosen.code, 0),
                 "skipped_penalised": sorted(excluded)},
    )
    return case

"""Who may take each step of a case, and what head office's loan status may change: the
holder verifies, four eyes sign off (the branch when the sub-branch has nobody left), and a
loan status fits only a reported case within its limit. Real HTTP, real simulators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.db.models import AuditRow, CaseEventRow, CaseRow
from yibaodai.sim.server import ServerThread

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def _case(installation: Installation, code: str) -> CaseRow:
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).where(CaseRow.fixmedins_code == code)).one()
        s.expunge(case)
        return case


def _events(installation: Installation, case_id: int) -> list[tuple[str, int | None]]:
    with installation.bank.db.unit_of_work() as s:
        return [(e.event, e.actor_id) for e in s.scalars(select(CaseEventRow).where(
            CaseEventRow.case_id == case_id).order_by(CaseEventRow.id))]


def _onboarded(w: World, installation: Installation) -> tuple[CaseRow, str]:
    inst = likely_admitted(city())[0]
    w.onboard(inst)
    case = _case(installation, inst.fixmedins_code)
    return case, case.sub_branch_code.lower()


def test_only_the_client_manager_who_holds_the_case_may_verify_it(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        case, sub = _onboarded(w, installation)
        assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/claim").status_code == 200
        for other in (f"cm_{sub}_2", f"mgr_{sub}"):
            r = w.api("POST", other, f"/api/cases/{case.id}/verification",
                      json={"checklist": CHECKLIST})
            assert r.status_code == 403 and r.json()["code"] == "not_holder", r.text
        assert _case(installation, case.fixmedins_code).state == "claimed"
        assert [e for e, _ in _events(installation, case.id)] == ["assigned", "claim"]
        r = w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/verification",
                  json={"checklist": CHECKLIST})
        assert r.status_code == 200 and r.json()["state"] == "verified"


def test_the_claimer_may_not_confirm_and_the_branch_confirms_when_nobody_is_left(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        case, sub = _onboarded(w, installation)
        mgr = f"mgr_{sub}"
        assert w.api("POST", mgr, f"/api/cases/{case.id}/claim").status_code == 200
        assert w.api("POST", mgr, f"/api/cases/{case.id}/verification",
                     json={"checklist": CHECKLIST}).status_code == 200
        r = w.api("POST", mgr, f"/api/cases/{case.id}/confirmation")
        assert r.status_code == 403 and r.json()["code"] == "four_eyes"
        detail = w.api("GET", "gm", f"/api/cases/{case.id}").json()
        assert detail["actions"]["confirm"] is True
        assert w.api("POST", "gm", f"/api/cases/{case.id}/confirmation").status_code == 200
        events = _events(installation, case.id)
        assert [e for e, _ in events] == ["assigned", "claim", "verify_pass", "confirm"]
        assert events[3][1] != events[1][1]


def test_the_branch_may_not_confirm_while_the_sub_branch_can(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        case, sub = _onboarded(w, installation)
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/claim")
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/verification",
              json={"checklist": CHECKLIST})
        r = w.api("POST", "gm", f"/api/cases/{case.id}/confirmation")
        assert r.status_code == 403 and r.json()["code"] == "sub_branch_can_confirm"
        assert _case(installation, case.fixmedins_code).state == "verified"
        assert w.api("POST", f"mgr_{sub}", f"/api/cases/{case.id}/confirmation"
                     ).status_code == 200


def _loan_status(w: World, case: CaseRow, **row: Any) -> Any:
    return w.desk.client.send(infno="8601", fixmedins_code=case.fixmedins_code,
                              fixmedins_name="x", rows=[{
                                  "fixmedins_code": case.fixmedins_code, "case_id": case.id,
                                  "status": "drawn", "overdue_days": 0, **row}])


def _written(installation: Installation, case_id: int) -> tuple[int, int]:
    with installation.bank.db.unit_of_work() as s:
        events = s.scalar(select(func.count()).select_from(CaseEventRow).where(
            CaseEventRow.case_id == case_id))
        audits = s.scalar(select(func.count()).select_from(AuditRow).where(
            AuditRow.target == f"case:{case_id}"))
        return int(events or 0), int(audits or 0)


def test_a_loan_status_for_a_case_never_reported_is_refused_and_changes_nothing(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        case, sub = _onboarded(w, installation)
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/claim")
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/verification",
              json={"checklist": CHECKLIST})
        before = _written(installation, case.id)
        answer = _loan_status(w, case, drawn_amount="999999999.00", balance="999999999.00")
        assert answer.infcode != 0
        assert "[case_id]" in answer.err_msg and "未上报" in answer.err_msg
        assert "not reported" in answer.err_msg
        after = _case(installation, case.fixmedins_code)
        assert (after.state, after.loan_status, after.loan_drawn) == ("verified", None, None)
        assert _written(installation, case.id) == before


def test_a_reported_case_takes_a_loan_status_within_its_limit_as_an_event_and_audit_row(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        case, _sub = _onboarded(w, installation)
        w.confirm(case.id, case.sub_branch_code)
        w.dispatcher.dispatch_due()
        reported = _case(installation, case.fixmedins_code)
        assert reported.state == "reported"
        before = _written(installation, case.id)
        above = f"{reported.credit_limit + Decimal('0.01'):.2f}"
        answer = _loan_status(w, case, drawn_amount=above, balance=above)
        assert answer.infcode != 0 and "[drawn_amount]" in answer.err_msg
        assert _written(installation, case.id) == before
        assert _case(installation, case.fixmedins_code).loan_drawn is None
        half = f"{reported.credit_limit / 2:.2f}"
        assert _loan_status(w, case, drawn_amount=half, balance=half).infcode == 0
        assert _loan_status(w, case, status="overdue", drawn_amount=half, balance=half,
                            overdue_days=5).infcode == 0
        drawn = _case(installation, case.fixmedins_code)
        assert (drawn.state, drawn.loan_status, drawn.overdue_days) == ("drawn", "overdue", 5)
        assert _written(installation, case.id) == (before[0] + 2, before[1] + 2)
        assert [e for e, _ in _events(installation, case.id)][-2:] == [
            "mark_drawn", "loan_status"]

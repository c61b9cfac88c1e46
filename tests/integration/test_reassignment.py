"""Moving a case by hand: a sub-branch manager within the sub-branch, a branch manager to
another sub-branch or client manager; who, when and why are case events; the holder then is
the one who verifies (and four eyes still hold). Real HTTP, and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from tests.support.operator import run_cli
from yibaodai.db.models import AuditRow, CaseEventRow, CaseRow, UserRow
from yibaodai.sim.server import ServerThread

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def _case(installation: Installation, case_id: int) -> CaseRow:
    with installation.bank.db.unit_of_work() as s:
        case = s.get(CaseRow, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _user_id(installation: Installation, username: str) -> int:
    with installation.bank.db.unit_of_work() as s:
        return s.scalars(select(UserRow.id).where(UserRow.username == username)).one()


def _onboarded(w: World, installation: Installation) -> tuple[int, str]:
    inst = likely_admitted(city())[0]
    w.onboard(inst)
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow)).one()
        return case.id, case.sub_branch_code.lower()


def _other_sub(sub: str) -> str:
    return "dl002" if sub == "dl001" else "dl001"


def test_a_sub_branch_manager_hands_a_case_to_a_colleague_who_then_verifies_it(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        cid, sub = _onboarded(w, installation)
        path = f"/api/cases/{cid}/reassignment"
        assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/claim").status_code == 200
        r = w.api("POST", f"cm_{sub}_1", path,
                  json={"client_manager": f"cm_{sub}_2", "reason": "休假 on leave"})
        assert r.status_code == 403  # a client manager may not reassign
        r = w.api("POST", f"mgr_{sub}", path, json={
            "client_manager": f"cm_{_other_sub(sub)}_1", "reason": "休假 on leave"})
        assert r.status_code == 403 and r.json()["code"] == "outside_sub_branch"
        r = w.api("POST", f"mgr_{sub}", path, json={"client_manager": f"cm_{sub}_2",
                                                    "reason": " "})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "reason"
        r = w.api("POST", f"mgr_{sub}", path, json={
            "client_manager": f"cm_{sub}_2", "sub_branch_code": sub.upper(), "reason": "x y"})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "to"
        assert _case(installation, cid).client_manager_id == _user_id(installation,
                                                                      f"cm_{sub}_1")
        r = w.api("POST", f"mgr_{sub}", path,
                  json={"client_manager": f"cm_{sub}_2", "reason": "休假 on leave"})
        assert r.status_code == 200 and r.json()["state"] == "claimed"
        verify = f"/api/cases/{cid}/verification"
        r = w.api("POST", f"cm_{sub}_1", verify, json={"checklist": CHECKLIST})
        assert r.status_code == 403 and r.json()["code"] == "not_holder"
        assert w.api("POST", f"cm_{sub}_2", verify,
                     json={"checklist": CHECKLIST}).status_code == 200
        assert w.api("POST", f"mgr_{sub}", f"/api/cases/{cid}/confirmation").status_code == 200
        mgr_id, cm2_id = _user_id(installation, f"mgr_{sub}"), _user_id(installation,
                                                                         f"cm_{sub}_2")
        with installation.bank.db.unit_of_work() as s:
            moved = s.scalars(select(CaseEventRow).where(
                CaseEventRow.case_id == cid, CaseEventRow.event == "reassigned")).one()
            assert moved.actor_id == mgr_id
            assert moved.details["reason"] == "休假 on leave"
            assert moved.details["to_holder"] == cm2_id
            assert moved.at == installation.clock.now()
            assert s.scalars(select(AuditRow.action).where(
                AuditRow.target == f"case:{cid}", AuditRow.action == "case.reassigned")).all()


def test_the_branch_moves_a_case_to_another_sub_branch_which_claims_it_afresh(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        cid, sub = _onboarded(w, installation)
        before = _case(installation, cid)
        other = _other_sub(sub)
        r = w.api("POST", f"mgr_{sub}", f"/api/cases/{cid}/reassignment",
                  json={"sub_branch_code": other.upper(), "reason": "超时未认领"})
        assert r.status_code == 403
        r = w.api("POST", "gm", f"/api/cases/{cid}/reassignment",
                  json={"sub_branch_code": other.upper(), "reason": "超时未认领 overdue"})
        assert r.status_code == 200 and r.json()["state"] == "assigned"
        moved = _case(installation, cid)
        assert moved.sub_branch_code == other.upper() and moved.client_manager_id is None
        assert moved.claim_deadline >= before.claim_deadline
        assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/claim").status_code == 404
        # the branch names the client manager: only that one claims it
        r = w.api("POST", "gm", f"/api/cases/{cid}/reassignment",
                  json={"client_manager": f"cm_{other}_2", "reason": "指定客户经理"})
        assert r.status_code == 200
        r = w.api("POST", f"cm_{other}_1", f"/api/cases/{cid}/claim")
        assert r.status_code == 403 and r.json()["code"] == "not_holder"
        assert w.api("POST", f"cm_{other}_2", f"/api/cases/{cid}/claim").status_code == 200
        with installation.bank.db.unit_of_work() as s:
            events = [(e.event, e.details.get("to_sub_branch")) for e in s.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id == cid)
                .order_by(CaseEventRow.id))]
        assert events == [("assigned", None), ("reassigned", other.upper()),
                          ("reassigned", other.upper()), ("claim", None)]


def test_case_reassign_command_acts_as_the_signed_in_manager(
        installation: Installation, bank_server: ServerThread,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with world(installation, bank_server.url) as w:
        cid, sub = _onboarded(w, installation)
    mgr = f"mgr_{sub}"
    monkeypatch.setenv("YIBAODAI_PASSWORD", installation.accounts[mgr].password)
    refused = run_cli(installation.settings, "case", "reassign", str(cid), "--user", mgr,
                      "--to-sub-branch", _other_sub(sub).upper(), "--reason", "换支行")
    assert refused.exit_code == 1 and "outside_sub_branch" in refused.stderr
    ok = run_cli(installation.settings, "case", "reassign", str(cid), "--user", mgr,
                 "--to-client-manager", f"cm_{sub}_2", "--reason", "人手调整")
    assert ok.exit_code == 0, ok.output
    assert _case(installation, cid).client_manager_id == _user_id(installation,
                                                                  f"cm_{sub}_2")

"""Privilege escalation attempts (issue 14, "Access"), with bodies a permitted user's request
would carry, so that only the access rule stands between the caller and the change:

- every route that acts on a record by id, asked by the other sub-branch's manager and client
  manager about this sub-branch's record: 404 (the record does not exist for them) or 403
  (the role may not call the route at all), and nothing changes;
- a sub-branch department manager acting on the branch-wide whitelist model: every action
  that moves a version beyond the draft belongs to the branch department general manager.

``test_routes_by_role`` proves the role x route table with harmless probes; this module
proves the scope and the model rule with real requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import CHECKLIST_ALL, ROLE_OF, make_world
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import (
    CaseEventRow,
    CaseRow,
    ModelVersionEventRow,
    OutreachEventRow,
    WarningRow,
)
from yibaodai.sim.server import ServerThread
from yibaodai.web.permissions import ROUTES, may


def _counts(installation: Installation) -> dict[str, int]:
    with installation.bank.db.unit_of_work() as s:
        return {m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (CaseEventRow, OutreachEventRow, ModelVersionEventRow)}


def test_the_other_sub_branch_cannot_read_or_act_on_this_sub_branchs_records_by_id(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    a, code, prospect = w.case_a.id, w.case_a.fixmedins_code, w.marketing.prospect
    own_cm = w.users["client_manager"]
    attempts: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
        ("GET", "/api/cases/{case_id}"): (f"/api/cases/{a}", {}),
        ("POST", "/api/cases/{case_id}/claim"): (f"/api/cases/{a}/claim", {}),
        ("POST", "/api/cases/{case_id}/verification"): (
            f"/api/cases/{a}/verification",
            {"json": {"checklist": CHECKLIST_ALL, "note": "现场核实 checked"}}),
        ("POST", "/api/cases/{case_id}/confirmation"): (f"/api/cases/{a}/confirmation", {}),
        ("POST", "/api/cases/{case_id}/reassignment"): (
            f"/api/cases/{a}/reassignment",
            {"json": {"client_manager": own_cm, "reason": "休假 on leave"}}),
        ("POST", "/api/cases/{case_id}/mismatch-override"): (
            f"/api/cases/{a}/mismatch-override", {"json": {"reason": "已核实 checked"}}),
        ("GET", "/api/warnings/{warning_id}"): (f"/api/warnings/{w.warn_a}", {}),
        ("POST", "/api/warnings/{warning_id}/outcome"): (
            f"/api/warnings/{w.warn_a}/outcome", {"json": {"outcome": "已电话核实 called"}}),
        ("GET", "/api/institutions/{code}"): (f"/api/institutions/{code}", {}),
        ("GET", "/api/institutions/{code}/settlement"): (
            f"/api/institutions/{code}/settlement", {}),
        ("GET", "/api/marketing/prospects/{prospect_id}"): (
            f"/api/marketing/prospects/{prospect}", {}),
        ("POST", "/api/marketing/prospects/{prospect_id}/outcome"): (
            f"/api/marketing/prospects/{prospect}/outcome",
            {"json": {"outcome": "interested", "note": "有意向"}}),
    }
    before = _counts(installation)
    with installation.bank.db.unit_of_work() as s:
        state = s.get(CaseRow, a).state  # type: ignore[union-attr]
        warning = s.get(WarningRow, w.warn_a).state  # type: ignore[union-attr]
    failures = []
    for label in ("other_sub_branch_manager", "other_client_manager"):
        role = ROLE_OF[label]
        assert role is not None
        for route, (path, kwargs) in attempts.items():
            expected = 404 if may(role, ROUTES[route]) else 403
            r = w.clients[label].request(route[0], path, **kwargs)
            if r.status_code != expected or not r.json().get("message_zh"):
                failures.append(f"{label} {route[0]} {path}: {r.status_code} != {expected}")
    assert not failures, "\n".join(failures)
    assert _counts(installation) == before
    with installation.bank.db.unit_of_work() as s:
        assert s.get(CaseRow, a).state == state  # type: ignore[union-attr]
        assert s.get(WarningRow, w.warn_a).state == warning  # type: ignore[union-attr]
    # the same requests from this sub-branch reach the records (the 404 above is the scope)
    assert w.clients["client_manager"].get(f"/api/cases/{a}").status_code == 200
    assert w.clients["client_manager"].post(f"/api/cases/{a}/claim").status_code == 200
    w.close()


def test_a_sub_branch_manager_cannot_move_the_branch_wide_model(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """A sub-branch manager may draft and submit (a maker); approving, rejecting,
    activating, shadowing and retiring the branch's model are the branch's own moves."""
    w = make_world(bank_server, installation, clock)
    mgr, gm = w.clients["sub_branch_manager"], w.clients["branch_manager"]
    active = next(v for v in gm.get("/api/models").json() if v["stage"] == "active")
    draft = mgr.post("/api/models", json={"from_id": active["id"], "label": "rule-esc",
                                           "changes": {"policy": {"min_months_of_history": 9}}})
    assert draft.status_code == 200, draft.text
    vid = draft.json()["id"]
    assert mgr.post(f"/api/models/{vid}/actions", json={"action": "submit"}).status_code == 200

    def refused(target: int, actions: tuple[str, ...]) -> None:
        before = _counts(installation)
        for action in actions:
            r = mgr.post(f"/api/models/{target}/actions", json={"action": action})
            assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", (
                target, action, r.status_code, r.text[:200])
        assert _counts(installation) == before

    refused(vid, ("approve", "reject"))
    assert gm.post(f"/api/models/{vid}/actions", json={"action": "approve"}).json()[
        "stage"] == "approved"
    refused(vid, ("activate", "set_challenger"))
    assert gm.post(f"/api/models/{vid}/actions", json={"action": "set_challenger"}).json()[
        "stage"] == "challenger"
    refused(vid, ("retire", "activate"))
    stages = {v["id"]: v["stage"] for v in gm.get("/api/models").json()}
    assert stages[vid] == "challenger" and stages[active["id"]] == "active"
    # the same move by the branch department general manager goes through
    assert gm.post(f"/api/models/{vid}/actions", json={"action": "retire"}).json()[
        "stage"] == "retired"
    w.close()

"""Offline verification: one unticked item is enough to reject the case (DESIGN step 6), and
the refusal is final. Each checklist item is tried false on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from yibaodai.db.models import CaseEventRow, CaseRow
from yibaodai.sim.server import ServerThread

ITEMS = ("identity", "licence", "address", "settlement_account", "operating_status")


@pytest.mark.parametrize("unticked", ITEMS)
def test_a_verification_with_one_item_false_rejects_the_case_for_good(
        installation: Installation, bank_server: ServerThread, unticked: str) -> None:
    inst = likely_admitted(city())[0]
    checklist = {item: item != unticked for item in ITEMS}
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        with installation.bank.db.unit_of_work() as s:
            case = s.scalars(select(CaseRow).where(
                CaseRow.fixmedins_code == inst.fixmedins_code)).one()
            case_id, sub = case.id, case.sub_branch_code.lower()
        cm, mgr = f"cm_{sub}_1", f"mgr_{sub}"
        assert w.api("POST", cm, f"/api/cases/{case_id}/claim").status_code == 200
        r = w.api("POST", cm, f"/api/cases/{case_id}/verification",
                  json={"checklist": checklist, "note": f"{unticked} 不符"})
        assert r.status_code == 200 and r.json()["state"] == "rejected"
        # final: no confirmation, no second claim
        assert w.api("POST", mgr, f"/api/cases/{case_id}/confirmation").status_code == 409
        assert w.api("POST", cm, f"/api/cases/{case_id}/claim").status_code == 409
        with installation.bank.db.unit_of_work() as s:
            assert s.get(CaseRow, case_id).state == "rejected"  # type: ignore[union-attr]
            events = s.scalars(select(CaseEventRow).where(
                CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)).all()
            last = events[-1]
            assert (last.from_state, last.to_state) == ("claimed", "rejected")
            assert last.details["checklist"] == checklist

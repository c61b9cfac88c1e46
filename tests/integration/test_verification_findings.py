"""The on-site findings beside the bureau's data: a mismatch is flagged on the case page and
blocks the confirmation (so nothing goes to head office) until a department manager who did
not verify overrides it with a reason; matching findings, spelled differently, pass."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.db.models import CaseEventRow, CaseRow, InstitutionRow
from yibaodai.sim.server import ServerThread

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _claimed(w: World, installation: Installation) -> tuple[int, str, InstitutionRow]:
    inst = likely_admitted(city())[0]
    w.onboard(inst)
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow)).one()
        row = s.get(InstitutionRow, case.fixmedins_code)
        assert row is not None
        s.expunge(row)
        cid, sub = case.id, case.sub_branch_code.lower()
    assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/claim").status_code == 200
    return cid, sub, row


def _findings(inst: InstitutionRow) -> dict[str, str]:
    assert inst.endtime is not None
    return {"uscc": _full_width(inst.uscc.lower()), "name": f" {inst.fixmedins_name} ",
            "legal_representative": inst.legrep_name or "",
            "licence_expiry": inst.endtime.strftime("%Y年%m月%d日"),
            "address": inst.addr or "", "settlement_account": inst.bankacct or "",
            "operating_status": inst.biz_stas or ""}


def test_findings_that_match_in_another_spelling_let_the_case_be_confirmed(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        cid, sub, inst = _claimed(w, installation)
        r = w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/verification",
                  json={"checklist": CHECKLIST, "findings": _findings(inst)})
        assert r.status_code == 200, r.text
        detail = w.api("GET", f"mgr_{sub}", f"/api/cases/{cid}").json()
        assert detail["mismatches"] == []
        found = {f["field"]: f["match"] for item in detail["checklist"] for f in item["found"]}
        assert len(found) == 7 and all(found.values())
        assert w.api("POST", f"mgr_{sub}", f"/api/cases/{cid}/confirmation").status_code == 200


def test_a_mismatch_blocks_confirmation_until_a_manager_overrides_it_with_a_reason(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        cid, sub, inst = _claimed(w, installation)
        findings = _findings(inst) | {"address": "大连市中山区某某路1号（已搬迁）",
                                      "operating_status": "2"}
        bad = w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/verification",
                    json={"checklist": CHECKLIST, "findings": {"shoe_size": "42"}})
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "findings.shoe_size"
        r = w.api("POST", f"cm_{sub}_1", f"/api/cases/{cid}/verification",
                  json={"checklist": CHECKLIST, "findings": findings})
        assert r.status_code == 200 and r.json()["state"] == "verified"
        detail = w.api("GET", f"mgr_{sub}", f"/api/cases/{cid}").json()
        assert detail["mismatches"] == ["address", "operating_status"]
        assert detail["actions"]["confirm"] is False
        blocked = w.api("POST", f"mgr_{sub}", f"/api/cases/{cid}/confirmation")
        assert blocked.status_code == 409 and blocked.json()["code"] == "verification_mismatch"
        path = f"/api/cases/{cid}/mismatch-override"
        assert w.api("POST", f"cm_{sub}_1", path, json={"reason": "我核实过"}).status_code == 403
        r = w.api("POST", f"mgr_{sub}", path, json={"reason": " "})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "reason"
        assert _state(installation, cid) == "verified" and w.head_office_inbox.messages == {}
        r = w.api("POST", f"mgr_{sub}", path,
                  json={"reason": "新址已在医保局备案中 / new address being filed"})
        assert r.status_code == 200
        assert w.api("POST", f"mgr_{sub}", path, json={"reason": "again"}).status_code == 409
        assert w.api("GET", f"mgr_{sub}", f"/api/cases/{cid}").json()["mismatches"] == []
        assert w.api("POST", f"mgr_{sub}", f"/api/cases/{cid}/confirmation").status_code == 200
        with installation.bank.db.unit_of_work() as s:
            events = [(e.event, e.details.get("mismatches")) for e in s.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id == cid)
                .order_by(CaseEventRow.id))]
        assert events[-3:] == [("verify_pass", ["address", "operating_status"]),
                               ("mismatch_override", ["address", "operating_status"]),
                               ("confirm", None)]


def _state(installation: Installation, cid: int) -> str:
    with installation.bank.db.unit_of_work() as s:
        return s.scalars(select(CaseRow.state).where(CaseRow.id == cid)).one()

"""The spine, step by step, through real HTTP and real simulators, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from yibaodai.cases.sla_sweep import sweep
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    CaseEventRow,
    CaseRow,
    DecisionRow,
    OutboxRow,
    SlaPenaltyRow,
    SubBranchRow,
    WarningRow,
)
from yibaodai.domain.ews.rules import replay
from yibaodai.monitoring.service import escalate_overdue, run_monitoring
from yibaodai.outbound.connector import Endpoint
from yibaodai.sim.server import ServerThread
from yibaodai.worker.dispatcher import MAX_ATTEMPTS

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def _first_case(inst_code: str, installation: Installation) -> CaseRow:
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).where(CaseRow.fixmedins_code == inst_code)).one()
        s.expunge(case)
        return case


def test_an_admitted_institution_becomes_a_case_in_a_sub_branch_serving_its_district(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        with installation.bank.db.unit_of_work() as s:
            decision = s.scalars(select(DecisionRow).where(
                DecisionRow.fixmedins_code == inst.fixmedins_code)).one()
            assert decision.result == "admitted", decision.reasons
            assert decision.credit_limit % 10000 == 0 and decision.credit_limit > 0
            case = s.scalars(select(CaseRow).where(
                CaseRow.fixmedins_code == inst.fixmedins_code)).one()
            sub = s.get(SubBranchRow, case.sub_branch_code)
            assert sub is not None and inst.area_code in sub.districts
            assert case.claim_deadline > case.assigned_at


def test_the_answer_reaches_the_bureau_only_through_the_outbox_dispatcher(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        assert w.bureau_inbox.messages == {}
        assert w.dispatcher.dispatch_due() == 1
        (message,) = w.bureau_inbox.messages.values()
        answer = message["input"]["data"][0]
        assert answer["fixmedins_code"] == inst.fixmedins_code
        assert answer["result"] == "admitted" and answer["sub_branch"]["phone"]
        assert w.dispatcher.dispatch_due() == 0  # sent once, never again


def test_claim_verify_confirm_reports_to_head_office_and_a_drawn_loan_comes_back(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        sub = case.sub_branch_code.lower()
        cm, mgr = f"cm_{sub}_1", f"mgr_{sub}"
        assert w.api("POST", cm, f"/api/cases/{case.id}/claim").status_code == 200
        r = w.api("POST", cm, f"/api/cases/{case.id}/verification",
                  json={"checklist": CHECKLIST, "note": "ok"})
        assert r.json()["state"] == "verified"
        assert w.api("POST", mgr, f"/api/cases/{case.id}/confirmation").status_code == 200
        w.dispatcher.dispatch_due()
        assert any(m["infno"] == "8501" for m in w.head_office_inbox.messages.values())
        assert _first_case(inst.fixmedins_code, installation).state == "reported"
        assert w.desk.draw_loans(share=1.0) == 1
        drawn = _first_case(inst.fixmedins_code, installation)
        assert drawn.state == "drawn" and drawn.loan_drawn is not None
        assert drawn.loan_drawn <= drawn.credit_limit


def test_the_verifier_cannot_also_confirm(installation: Installation,
                                          bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        mgr = f"mgr_{case.sub_branch_code.lower()}"
        w.api("POST", mgr, f"/api/cases/{case.id}/claim")
        w.api("POST", mgr, f"/api/cases/{case.id}/verification",
              json={"checklist": CHECKLIST, "note": ""})
        r = w.api("POST", mgr, f"/api/cases/{case.id}/confirmation")
        assert r.status_code == 403 and r.json()["code"] == "four_eyes"
        assert _first_case(inst.fixmedins_code, installation).state == "verified"


def test_other_sub_branches_get_404_for_a_case_and_never_see_it_listed(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        other = "dl001" if case.sub_branch_code != "DL001" else "dl002"
        assert w.api("GET", f"cm_{other}_1", f"/api/cases/{case.id}").status_code == 404
        assert w.api("POST", f"cm_{other}_1", f"/api/cases/{case.id}/claim").status_code == 404
        assert w.api("GET", f"cm_{other}_1", "/api/cases").json()["items"] == []
        assert [c["id"] for c in w.api("GET", "gm", "/api/cases").json()["items"]] == [case.id]


def test_an_incomplete_checklist_is_refused_field_by_field_and_changes_nothing(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        cm = f"cm_{case.sub_branch_code.lower()}_1"
        w.api("POST", cm, f"/api/cases/{case.id}/claim")
        r = w.api("POST", cm, f"/api/cases/{case.id}/verification",
                  json={"checklist": {"identity": True, "bogus": True}})
        assert r.status_code == 422
        fields = {f["field"] for f in r.json()["fields"]}
        assert "checklist.licence" in fields and "checklist.bogus" in fields
        assert _first_case(inst.fixmedins_code, installation).state == "claimed"


def test_a_late_sub_branch_is_penalised_and_its_district_goes_to_another(
        installation: Installation, bank_server: ServerThread) -> None:
    candidates = likely_admitted(city(120))
    first = candidates[0]
    same_district = [i for i in candidates[1:] if i.area_code == first.area_code]
    assert same_district, "the synthetic city should have two such institutions in a district"
    with world(installation, bank_server.url) as w:
        w.onboard(first)
        late = _first_case(first.fixmedins_code, installation)
        installation.clock.set(datetime(2026, 9, 4, 9, 0, tzinfo=SHANGHAI))
        with installation.bank.db.unit_of_work() as s:
            penalties = sweep(s, now=installation.clock.now())
            s.commit()
        assert [(p.sub_branch_code, p.kind) for p in penalties] == [
            (late.sub_branch_code, "claim")]
        with installation.bank.db.unit_of_work() as s:  # a second sweep adds nothing
            assert sweep(s, now=installation.clock.now()) == []
        w.onboard(same_district[0])
        later = _first_case(same_district[0].fixmedins_code, installation)
        assert later.sub_branch_code != late.sub_branch_code
        with installation.bank.db.unit_of_work() as s:
            event = s.scalars(select(CaseEventRow).where(
                CaseEventRow.case_id == later.id)).one()
            assert late.sub_branch_code in event.details["skipped_penalised"]
            assert s.scalar(select(func.count()).select_from(SlaPenaltyRow)) == 1


def test_a_borrower_whose_income_collapses_gets_a_warning_for_its_client_manager(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        sub = case.sub_branch_code.lower()
        w.confirm(case.id, case.sub_branch_code)
        w.dispatcher.dispatch_due()
        # September's data arrives with only a few days of business: income collapses.
        installation.clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI))
        for answer in w.pusher.push_settlements(inst, start=date(2026, 9, 1),
                                                end=date(2026, 9, 3)):
            assert answer.infcode == 0
        with installation.bank.db.unit_of_work() as s:
            raised = run_monitoring(s, now=installation.clock.now())
            s.commit()
            assert [x.rule_code for x in raised] == ["W01"]
            assert raised[0].assigned_to is not None
            assert raised[0].inputs["month"] == "2026-09" and raised[0].severity == "orange"
        with installation.bank.db.unit_of_work() as s:  # idempotent per rule and month
            assert run_monitoring(s, now=installation.clock.now()) == []
        # October is as bad: the open W01 is updated to red, not duplicated
        installation.clock.set(datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI))
        for answer in w.pusher.push_settlements(inst, start=date(2026, 10, 1),
                                                end=date(2026, 10, 3)):
            assert answer.infcode == 0
        with installation.bank.db.unit_of_work() as s:
            (level,) = run_monitoring(s, now=installation.clock.now())  # and a new level
            s.commit()
            assert (level.rule_code, level.severity) == ("W04", "red")
            assert level.inputs["change_month"] == "2026-09"
            (kept,) = s.scalars(select(WarningRow).where(WarningRow.rule_code == "W01")).all()
            assert (kept.rule_code, kept.severity, kept.period) == ("W01", "red", "2026-10")
            assert [r["period"] for r in kept.reasons] == ["2026-09", "2026-10"]
            again = replay(kept.rule_code, kept.inputs)
            assert again is not None and (again.level, again.period) == ("red", "2026-10")
        warnings = w.api("GET", f"cm_{sub}_1", "/api/warnings").json()["items"]
        assert sorted(x["rule_code"] for x in warnings) == ["W01", "W04"]
        warnings = [x for x in warnings if x["rule_code"] == "W01"]
        colleague = w.api("POST", f"cm_{sub}_2", f"/api/warnings/{warnings[0]['id']}/outcome",
                          json={"outcome": "不是我的客户 / not my client"})
        assert colleague.status_code == 403 and colleague.json()["code"] == "not_assignee"
        note = "电话核实：店面装修停业三周 / closed for refurbishment"
        r = w.api("POST", f"cm_{sub}_1", f"/api/warnings/{warnings[0]['id']}/outcome",
                  json={"outcome": note, "outcome_kind": "risk_confirmed"})
        assert r.json()["code"] == "invalid_outcome"
        assert [f["field"] for f in r.json()["fields"]] == ["action"]  # confirmed risk: act
        r = w.api("POST", f"cm_{sub}_1", f"/api/warnings/{warnings[0]['id']}/outcome",
                  json={"outcome": note, "outcome_kind": "risk_confirmed", "action": "watch"})
        assert r.json()["state"] == "closed"
        with installation.bank.db.unit_of_work() as s:
            handled = s.scalars(select(WarningRow).where(WarningRow.rule_code == "W01")).one()
            assert (handled.state, handled.outcome_kind, handled.action) == (
                "closed", "risk_confirmed", "watch")
        counts = w.api("GET", f"mgr_{sub}", "/api/warnings/outcomes").json()["rules"]
        assert counts["W01"]["risk_confirmed"] == 1 and counts["W04"]["open"] == 1
        # the red W04 (raised Sunday 1 November) may wait one working day, then goes to the
        # department manager, and after two to the branch
        with installation.bank.db.unit_of_work() as s:
            assert escalate_overdue(s, now=datetime(2026, 11, 2, 20, tzinfo=SHANGHAI)) == []
            (up,) = escalate_overdue(s, now=datetime(2026, 11, 3, 9, tzinfo=SHANGHAI))
            assert (up.rule_code, up.state, up.escalation) == ("W04", "escalated", "department")
            (up,) = escalate_overdue(s, now=datetime(2026, 11, 4, 9, tzinfo=SHANGHAI))
            assert up.escalation == "branch"
            assert escalate_overdue(s, now=datetime(2026, 11, 9, 9, tzinfo=SHANGHAI)) == []


def test_an_unreachable_head_office_leaves_the_message_pending_and_retries_later(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        w.confirm(case.id, case.sub_branch_code)
        real = w.dispatcher.endpoints["headoffice"]
        w.dispatcher.endpoints["headoffice"] = Endpoint("http://127.0.0.1:9/closed", "headoffice")
        w.dispatcher.dispatch_due()
        with installation.bank.db.unit_of_work() as s:
            row = s.scalars(select(OutboxRow).where(OutboxRow.kind == "whitelist_entry")).one()
            assert row.status == "pending" and row.attempts == 1 and row.last_error
            retry_at = row.next_attempt_at
        assert _first_case(inst.fixmedins_code, installation).state == "confirmed"
        w.dispatcher.endpoints["headoffice"] = real
        assert w.dispatcher.dispatch_due() == 0  # not due yet: time has not moved
        installation.clock.set(retry_at + timedelta(seconds=1))
        assert w.dispatcher.dispatch_due() == 1
        assert _first_case(inst.fixmedins_code, installation).state == "reported"
        assert len(w.head_office_inbox.messages) == 1


def test_data_after_revocation_is_refused(installation: Installation,
                                          bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        answer = w.pusher.client.send(
            infno="8102", fixmedins_code=inst.fixmedins_code,
            fixmedins_name=inst.fixmedins_name, rows=[{
                "fixmedins_code": inst.fixmedins_code,
                "auth_no": f"AUTH{inst.fixmedins_code}20260901",
                "revoke_time": "2026-09-01 10:00:00"}])
        assert answer.infcode == 0
        installation.clock.set(datetime(2026, 9, 3, 9, 0, tzinfo=SHANGHAI))
        refused = w.pusher.push_settlements(inst, start=date(2026, 9, 1), end=date(2026, 9, 2))
        assert all(a.infcode != 0 for a in refused)
        assert "授权" in refused[0].err_msg and "authorization" in refused[0].err_msg


def test_a_message_that_keeps_failing_ends_as_dead_letter_after_the_last_attempt(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        w.dispatcher.endpoints["bureau"] = Endpoint("http://127.0.0.1:9/closed", "bureau")
        for _ in range(MAX_ATTEMPTS):
            w.dispatcher.dispatch_due()
            with installation.bank.db.unit_of_work() as s:
                row = s.scalars(select(OutboxRow)).one()
                status, attempts, error = row.status, row.attempts, row.last_error or ""
                retry_at = row.next_attempt_at
            installation.clock.set(max(retry_at, installation.clock.now())
                                   + timedelta(seconds=1))
        assert (status, attempts) == ("dead", MAX_ATTEMPTS)
        assert "ConnectError" in error
        assert w.dispatcher.dispatch_due() == 0 and w.bureau_inbox.messages == {}


def test_a_bureau_penalty_after_the_loan_warns_and_re_decides_at_once(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        w.confirm(case.id, case.sub_branch_code)
        w.dispatcher.dispatch_due()
        installation.clock.advance(timedelta(days=3))
        answer = w.pusher.push_event(inst, evt_type="penalty", evt_date=date(2026, 9, 3),
                                     evt_desc="违规结算", evt_amt="5000.00")
        assert answer.infcode == 0 and answer.output["decision"]["result"] == "refused"
        with installation.bank.db.unit_of_work() as s:
            (warning,) = run_monitoring(s, now=installation.clock.now())
            s.commit()
            assert warning.rule_code == "W03" and warning.severity == "orange"
            assert [e["evt_type"] for e in warning.inputs["events"]] == ["penalty"]
            results = s.scalars(select(DecisionRow.result).where(
                DecisionRow.fixmedins_code == inst.fixmedins_code)
                .order_by(DecisionRow.id)).all()
        assert results == ["admitted", "refused"]  # history kept, latest first-class


def test_a_case_whose_latest_decision_refuses_cannot_be_confirmed(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        case = _first_case(inst.fixmedins_code, installation)
        sub = case.sub_branch_code.lower()
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/claim")
        w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/verification",
              json={"checklist": CHECKLIST})
        installation.clock.advance(timedelta(hours=2))
        w.pusher.push_event(inst, evt_type="suspension", evt_date=date(2026, 9, 1),
                            evt_desc="暂停结算")
        r = w.api("POST", f"mgr_{sub}", f"/api/cases/{case.id}/confirmation")
        assert r.status_code == 409 and r.json()["code"] == "decision_superseded"
        assert _first_case(inst.fixmedins_code, installation).state == "verified"
        assert w.head_office_inbox.messages == {}

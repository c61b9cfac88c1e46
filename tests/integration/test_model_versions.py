"""Model versions on both backends: lifecycle with maker-checker, exactly one active, a
challenger in shadow, replay that catches tampering, and re-evaluation that keeps history."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from yibaodai.admission.service import (
    inputs_from_json,
    material_change,
    replay,
    shadow_report,
)
from yibaodai.admission.versions import active_version, create_draft, move, stages
from yibaodai.audit.log import verify_chain
from yibaodai.auth.passwords import hash_password
from yibaodai.auth.roles import Role
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuditRow,
    DecisionRow,
    OutboxRow,
    ShadowDecisionRow,
    UserRow,
)
from yibaodai.domain.admission import decide
from yibaodai.domain.model_version import Action, Stage
from yibaodai.errors import Conflict, PermissionDenied
from yibaodai.sim.server import ServerThread

MAKER, CHECKER, PEER_MANAGER, CLERK = "mgr_dl001", "gm", "mgr_dl002", "cm_dl001_1"


def _approved_draft(installation: Installation, changes: dict[str, Any]) -> int:
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        base = active_version(s, now).id
        vid = create_draft(s, from_id=base, username=CLERK, now=now, changes=changes)
        move(s, version_id=vid, action=Action.SUBMIT, username=MAKER, now=now)
        move(s, version_id=vid, action=Action.APPROVE, username=CHECKER, now=now)
        s.commit()
    return vid


def test_a_version_needs_a_second_manager_and_activation_keeps_exactly_one_active(
        installation: Installation) -> None:
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        first = active_version(s, now).id  # seeded: the initial rule, approved and active
        vid = create_draft(s, from_id=first, username=CLERK, now=now,
                           changes={"limit": {"multiple": "2"}})
        assert stages(s)[vid] is Stage.DRAFT
        with pytest.raises(Conflict):  # no skipping
            move(s, version_id=vid, action=Action.ACTIVATE, username=CHECKER, now=now)
        move(s, version_id=vid, action=Action.SUBMIT, username=CHECKER, now=now)
        with pytest.raises(PermissionDenied) as same_user:  # the submitter, though gm
            move(s, version_id=vid, action=Action.APPROVE, username=CHECKER, now=now)
        assert same_user.value.code == "four_eyes"
        for not_checker in (CLERK, MAKER, PEER_MANAGER, "admin", "auditor"):
            with pytest.raises(PermissionDenied) as refused:
                move(s, version_id=vid, action=Action.APPROVE, username=not_checker, now=now)
            assert refused.value.code == "role_not_allowed"
        assert stages(s)[vid] is Stage.SUBMITTED
        s.add(UserRow(username="gm2", display_name="第二总经理", staff_no="S99999",
                      role=Role.BRANCH_MANAGER.value, sub_branch_code=None,
                      password_hash=hash_password("unused"), active=True))
        s.flush()
        move(s, version_id=vid, action=Action.APPROVE, username="gm2", now=now)
        assert stages(s)[vid] is Stage.APPROVED and stages(s)[first] is Stage.ACTIVE
        with pytest.raises(PermissionDenied):
            move(s, version_id=vid, action=Action.ACTIVATE, username=PEER_MANAGER, now=now)
        move(s, version_id=vid, action=Action.ACTIVATE, username=CHECKER, now=now)
        with pytest.raises(Conflict) as retire:
            move(s, version_id=vid, action=Action.RETIRE, username=CHECKER, now=now)
        assert retire.value.code == "replace_active"
        s.commit()
    with installation.bank.db.unit_of_work() as s:
        st = stages(s)
        assert [v for v, stage in st.items() if stage is Stage.ACTIVE] == [vid]
        assert st[first] is Stage.RETIRED
        assert active_version(s, now).model.limit.multiple == Decimal("2")
        actions = s.scalars(select(AuditRow.action).where(
            AuditRow.target == f"model_version:{vid}").order_by(AuditRow.id)).all()
        assert actions == ["model.create", "model.submit", "model.approve", "model.activate"]
        assert verify_chain(s) is None


def test_the_cli_signs_users_in_and_refuses_the_makers_own_approval(
        installation: Installation, monkeypatch: pytest.MonkeyPatch) -> None:
    from yibaodai.cli import app

    monkeypatch.setenv("YIBAODAI_DATABASE_URL", installation.settings.database_url)
    monkeypatch.setenv("YIBAODAI_DEMO_MODE", "1")  # the fixtures' installations are demo ones
    with installation.bank.db.unit_of_work() as s:
        active_version(s, installation.clock.now())
        s.commit()
    accounts = installation.accounts

    def run(*args: str, user: str, password: str | None = None) -> Any:
        env = {"YIBAODAI_PASSWORD": password or accounts[user].password}
        return CliRunner().invoke(app, ["model", *args, "--user", user], env=env)

    wrong = run("create-draft", "--from", "1", user=MAKER, password="not-the-password")
    unknown = run("create-draft", "--from", "1", user="nobody", password="x")
    assert wrong.exit_code == unknown.exit_code == 1
    assert "bad_credentials" in wrong.output and "bad_credentials" in unknown.output
    # the password prompt, when no environment variable is set
    prompted = CliRunner().invoke(app, ["model", "create-draft", "--from", "1", "--user", MAKER],
                                  input=accounts[MAKER].password + "\n",
                                  env={"YIBAODAI_PASSWORD": ""})
    assert prompted.exit_code == 0, prompted.output
    assert run("submit", "2", user=MAKER).exit_code == 0
    refused = run("approve", "2", user=MAKER)
    assert refused.exit_code == 1 and "role_not_allowed" in refused.output
    assert run("approve", "2", user=CHECKER, password="wrong").exit_code == 1
    assert run("approve", "2", user=CHECKER).exit_code == 0
    assert run("set-challenger", "2", user=CHECKER).exit_code == 0
    # the general manager's own version needs another checker
    assert run("create-draft", "--from", "1", user=CHECKER).exit_code == 0
    assert run("submit", "3", user=CHECKER).exit_code == 0
    own = run("approve", "3", user=CHECKER)
    assert own.exit_code == 1 and "maker-checker" in own.output
    listed = json.loads(CliRunner().invoke(app, ["model", "list", "--json"]).stdout)
    assert [(v["id"], v["stage"]) for v in listed] == [(1, "active"), (2, "challenger"),
                                                       (3, "submitted")]
    shown = json.loads(CliRunner().invoke(app, ["model", "show", "2"]).stdout)
    assert shown["content"]["scorecards"]["pharmacy"]["cutoff"] == 70
    assert [h["action"] for h in shown["history"]] == [
        "create", "submit", "approve", "set_challenger"]


def test_a_challenger_runs_in_shadow_replay_catches_tampering_and_reevaluation_keeps_history(
        installation: Installation, bank_server: ServerThread,
        monkeypatch: pytest.MonkeyPatch) -> None:
    challenger = _approved_draft(installation, {"limit": {"multiple": "2"}})
    with installation.bank.db.unit_of_work() as s:
        move(s, version_id=challenger, action=Action.SET_CHALLENGER, username=CHECKER,
             now=installation.clock.now())
        s.commit()
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        db = installation.bank.db
        with db.unit_of_work() as s:
            decision = s.scalars(select(DecisionRow)).one()
            active = active_version(s, installation.clock.now())
            assert decision.model_version_id == active.id and decision.score is not None
            # the result is the active model's, whatever the challenger says
            expected = decide(inputs_from_json(decision.inputs), active.model)
            assert decision.credit_limit == expected.credit_limit and expected.admitted
            shadow = s.scalars(select(ShadowDecisionRow)).one()
            assert shadow.model_version_id == challenger
            assert shadow.credit_limit < decision.credit_limit  # 2x instead of 3x
            answer = s.scalars(select(OutboxRow).where(OutboxRow.destination == "bureau")).one()
            assert answer.payload["credit_limit"] == str(decision.credit_limit)
            assert answer.payload["model_version"] == active.label
            report = shadow_report(s)
            assert report[0]["active"]["credit_limit"] == str(decision.credit_limit)
            assert report[0]["challenger"]["credit_limit"] == str(shadow.credit_limit)
            assert report[0]["agree"] is False
            assert replay(s, decision) == (True, [])
            original = {"credit_limit": decision.credit_limit, "inputs": decision.inputs}
            decision_id = decision.id

        # Tampering with the stored row, with plain SQL: replay names the difference.
        table = DecisionRow.__table__
        with db.unit_of_work() as s:
            s.execute(update(table).where(table.c.id == decision_id).values(
                credit_limit_fen=original["credit_limit"] + 10_000))  # Money: yuan in, fen stored
            s.commit()
        same, diffs = _replay(installation, decision_id)
        assert not same and any(d.startswith("credit_limit: stored") for d in diffs)
        forged = json.loads(json.dumps(original["inputs"]))
        forged["features"]["refund_ratio"] = 0.0001  # does not change the answer, only facts
        with db.unit_of_work() as s:
            s.execute(update(table).where(table.c.id == decision_id).values(
                credit_limit_fen=original["credit_limit"], inputs=forged))
            s.commit()
        same, diffs = _replay(installation, decision_id)
        assert not same and diffs == [d for d in diffs if d.startswith("content hash")]
        monkeypatch.setenv("YIBAODAI_DATABASE_URL", installation.settings.database_url)
        monkeypatch.setenv("YIBAODAI_DEMO_MODE", "1")  # the fixtures' installations are demo ones
        from yibaodai.cli import app

        cli = CliRunner().invoke(app, ["decision", "replay", str(decision_id)])
        assert cli.exit_code == 1 and "content hash" in cli.output
        with db.unit_of_work() as s:
            s.execute(update(table).where(table.c.id == decision_id).values(
                inputs=original["inputs"]))
            s.commit()
        assert _replay(installation, decision_id) == (True, [])

        # A penalty, then the next day's data: re-decided, refused, answered; history kept.
        assert w.pusher.client.send(
            infno="8202", fixmedins_code=inst.fixmedins_code,
            fixmedins_name=inst.fixmedins_name, rows=[{
                "fixmedins_code": inst.fixmedins_code, "evt_type": "penalty",
                "evt_date": "2026-09-01", "evt_desc": "违规结算 / irregular claims",
                "evt_amt": "5000.00"}]).infcode == 0
        installation.clock.set(datetime(2026, 9, 2, 9, 0, tzinfo=SHANGHAI))
        for a in w.pusher.push_settlements(inst, start=date(2026, 9, 1), end=date(2026, 9, 1)):
            assert a.infcode == 0
        with db.unit_of_work() as s:
            decisions = s.scalars(select(DecisionRow).order_by(DecisionRow.id)).all()
            assert [d.result for d in decisions] == ["admitted", "refused"]
            assert decisions[1].trigger.endswith("/penalty-event")
            assert decisions[1].reasons[0]["code"] == "K05"
            assert decisions[0].credit_limit == original["credit_limit"]  # untouched
            answers = s.scalars(select(OutboxRow).where(OutboxRow.destination == "bureau")
                                .order_by(OutboxRow.id)).all()
            assert [a.payload["decision_id"] for a in answers] == [d.id for d in decisions]
            assert answers[1].payload["supersedes"] == decisions[0].id
            assert s.scalar(select(func.count()).select_from(ShadowDecisionRow)) == 2
        # Another day with nothing material: no new decision.
        installation.clock.set(datetime(2026, 9, 3, 9, 0, tzinfo=SHANGHAI))
        for a in w.pusher.push_settlements(inst, start=date(2026, 9, 2), end=date(2026, 9, 2)):
            assert a.infcode == 0
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(DecisionRow)) == 2


def _replay(installation: Installation, decision_id: int) -> tuple[bool, list[str]]:
    with installation.bank.db.unit_of_work() as s:
        row = s.get(DecisionRow, decision_id)
        assert row is not None
        return replay(s, row)


PREVIOUS: dict[str, Any] = {
    "segment": "pharmacy", "ownership": "private", "biz_stas": "1", "cred_lv_name": "A",
    "penalties_24m": 0, "features": {"avg_monthly_fund_pay_6m": "100000.00",
                                     "avg_monthly_fund_pay_12m": "100000.00"}}


@pytest.mark.parametrize(("profile", "features", "why"), [
    ({}, None, None),
    ({"biz_stas": "2"}, None, "profile-change"),
    ({"cred_lv_name": "B"}, None, "profile-change"),
    ({"penalties_24m": 1}, None, "penalty-event"),
    ({}, {"avg_monthly_fund_pay_6m": "120000.00", "avg_monthly_fund_pay_12m": "100000.00"},
     None),
    ({}, {"avg_monthly_fund_pay_6m": "79000.00", "avg_monthly_fund_pay_12m": "95000.00"},
     "fund-pay-change"),
    ({}, {"avg_monthly_fund_pay_6m": "100000.00", "avg_monthly_fund_pay_12m": "121000.00"},
     "fund-pay-change"),
])
def test_the_reevaluation_rule_names_what_changed_materially(
        profile: dict[str, Any], features: dict[str, Any] | None, why: str | None) -> None:
    current = {k: v for k, v in PREVIOUS.items() if k != "features"} | profile
    assert material_change(PREVIOUS, current, features) == why

"""Outreach, call lists, campaigns, the funnel and attribution on real SQLite and PostgreSQL,
and the ``yibaodai marketing`` command line."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from tests.integration.test_marketing_import import (
    START,
    _known_borrower,
    bureau_list,
    city,
    run_import,
    staffed,  # noqa: F401  (fixture)
)
from yibaodai.audit.log import verify_chain
from yibaodai.auth.roles import Actor, Role
from yibaodai.cases.events import append_case_event
from yibaodai.cli import app
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuthorizationRow,
    CampaignAttributionRow,
    OutreachEventRow,
    ProspectRow,
    UserRow,
)
from yibaodai.db.session import Database
from yibaodai.domain.marketing.funnel import Target
from yibaodai.domain.marketing.outreach import Outcome, OutreachState
from yibaodai.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yibaodai.marketing import (
    attribute_authorization,
    call_list,
    call_list_xlsx,
    campaign_funnel,
    create_campaign,
    current_states,
    record_outcome,
    set_do_not_contact,
)


def actor(db: Database, username: str) -> Actor:
    with db.unit_of_work() as s:
        u = s.scalars(select(UserRow).where(UserRow.username == username)).one()
        return Actor(u.id, u.username, u.display_name, u.staff_no, Role(u.role),
                     u.sub_branch_code)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 9, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def listed(staffed: Database) -> Database:  # noqa: F811
    run_import(staffed, bureau_list(city(120))[0])
    return staffed


def mine(db: Database, who: Actor) -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ProspectRow.id).where(
            ProspectRow.client_manager_id == who.user_id).order_by(ProspectRow.id)))


def test_a_call_list_holds_what_is_due_and_outcomes_move_prospects_off_and_on(
        listed: Database) -> None:
    cm = actor(listed, "cm_dl006_1")
    ids = mine(listed, cm)
    assert len(ids) >= 3
    with listed.unit_of_work() as s:
        today = call_list(s, actor=cm, on=START.date())
        assert [e.prospect_id for e in today] == ids
        assert all(e.state is OutreachState.LISTED for e in today)
        record_outcome(s, actor=cm, prospect_id=ids[0], outcome=Outcome.INTERESTED,
                       next_action_on=START.date() + timedelta(days=2), note="下周再联系",
                       now=START)
        record_outcome(s, actor=cm, prospect_id=ids[1], outcome=Outcome.NOT_INTERESTED,
                       next_action_on=None, note="", now=START)
        s.commit()
    with listed.unit_of_work() as s:
        assert ids[0] not in [e.prospect_id for e in call_list(s, actor=cm, on=START.date())]
        later = call_list(s, actor=cm, on=START.date() + timedelta(days=3))
        assert later[0].prospect_id == ids[0]  # due first, then never contacted
        assert later[0].last_note == "下周再联系"
        assert ids[1] not in [e.prospect_id for e in later]
        assert current_states(s, prospect_ids=ids[:2]) == {
            ids[0]: OutreachState.INTERESTED, ids[1]: OutreachState.NOT_INTERESTED}
        assert verify_chain(s) is None


def test_outcomes_follow_the_table_and_the_data_scope(listed: Database) -> None:
    cm, other = actor(listed, "cm_dl006_1"), actor(listed, "cm_dl001_1")
    gm = actor(listed, "gm")
    pid = mine(listed, cm)[0]
    with listed.unit_of_work() as s:
        with pytest.raises(Conflict) as refused:
            record_outcome(s, actor=cm, prospect_id=pid, outcome=Outcome.VISITED,
                           next_action_on=None, note="", now=START)
        assert refused.value.code == "invalid_transition"
        with pytest.raises(ValidationFailed) as no_date:
            record_outcome(s, actor=cm, prospect_id=pid, outcome=Outcome.VISIT_SCHEDULED,
                           next_action_on=None, note="", now=START)
        assert no_date.value.fields[0].field == "next_action_on"
        with pytest.raises(NotFound):
            record_outcome(s, actor=other, prospect_id=pid, outcome=Outcome.INTERESTED,
                           next_action_on=None, note="", now=START)
        with pytest.raises(PermissionDenied):
            record_outcome(s, actor=gm, prospect_id=pid, outcome=Outcome.INTERESTED,
                           next_action_on=None, note="", now=START)
        assert s.scalars(select(OutreachEventRow)).all() == []


def test_a_do_not_contact_prospect_is_never_on_a_call_list(listed: Database) -> None:
    cm = actor(listed, "cm_dl006_1")
    manager = actor(listed, "mgr_dl006")
    pid = mine(listed, cm)[0]
    with listed.unit_of_work() as s:
        with pytest.raises(ValidationFailed):
            set_do_not_contact(s, actor=manager, prospect_id=pid, value=True, reason="",
                               now=START)
        set_do_not_contact(s, actor=manager, prospect_id=pid, value=True,
                           reason="机构要求不再来电", now=START)
        s.commit()
    with listed.unit_of_work() as s:
        assert pid not in [e.prospect_id for e in call_list(s, actor=cm, on=START.date())]
        assert pid not in [e.prospect_id for e in call_list(
            s, actor=manager, on=START.date(), manager_id=cm.user_id)]
        with pytest.raises(Conflict):
            record_outcome(s, actor=cm, prospect_id=pid, outcome=Outcome.INTERESTED,
                           next_action_on=None, note="", now=START)


def test_the_call_list_exports_to_excel_with_real_dates(listed: Database) -> None:
    cm = actor(listed, "cm_dl006_1")
    pid = mine(listed, cm)[0]
    with listed.unit_of_work() as s:
        record_outcome(s, actor=cm, prospect_id=pid, outcome=Outcome.INTERESTED,
                       next_action_on=START.date(), note="", now=START)
        entries = call_list(s, actor=cm, on=START.date())
    data = call_list_xlsx(entries, manager_name=cm.display_name, on=START.date(),
                          produced_by=cm.username, produced_at=START)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == len(entries)
    assert rows[0][1] == entries[0].name and isinstance(rows[0][8], datetime)
    assert "请勿外传" in sheet.oddHeader.right.text


def test_a_campaign_funnel_and_an_authorization_credited_to_the_outreach_before_it(
        listed: Database) -> None:
    cm = actor(listed, "cm_dl006_1")
    gm = actor(listed, "gm")
    first, second, third = mine(listed, cm)[:3]
    with listed.unit_of_work() as s:
        with pytest.raises(PermissionDenied):
            create_campaign(s, name="九月", starts_on=date(2026, 9, 1),
                            ends_on=date(2026, 9, 30), targets={}, actor=cm, now=START)
        with pytest.raises(ValidationFailed) as bad:
            create_campaign(s, name="九月", starts_on=date(2026, 9, 30),
                            ends_on=date(2026, 9, 1), targets={"XX": Target(-1, Decimal(1))},
                            actor=gm, now=START)
        assert {f.field for f in bad.value.fields} == {"ends_on", "targets.XX",
                                                       "targets.XX.count"}
        campaign = create_campaign(s, name="九月", starts_on=date(2026, 9, 1),
                                   ends_on=date(2026, 9, 30),
                                   targets={"DL006": Target(2, Decimal("600000.00"))},
                                   actor=gm, now=START)
        record_outcome(s, actor=cm, prospect_id=first, outcome=Outcome.INTERESTED,
                       next_action_on=None, note="", now=at(2))
        visit = record_outcome(s, actor=cm, prospect_id=first, outcome=Outcome.VISIT_SCHEDULED,
                               next_action_on=date(2026, 9, 4), note="", now=at(3))
        record_outcome(s, actor=cm, prospect_id=second, outcome=Outcome.NOT_REACHED,
                       next_action_on=None, note="", now=at(3))
        code = s.get(ProspectRow, first).fixmedins_code  # type: ignore[union-attr]
        assert code is not None
        institution = next(i for i in city(120) if i.fixmedins_code == code)
        case = _known_borrower(s, institution, drawn=True)
        case.assigned_at, case.reported_at = at(6), at(7)
        append_case_event(s, case_id=case.id, at=at(8), event="mark_drawn",
                          from_state="reported", to_state="drawn", actor_id=None)
        s.add(AuthorizationRow(auth_no="A-1", fixmedins_code=code, uscc=institution.uscc,
                               auth_scope=["settlement"], begndate=date(2026, 9, 5),
                               enddate=date(2027, 9, 4), granted_at=at(5)))
        credited = attribute_authorization(s, fixmedins_code=code, uscc=institution.uscc,
                                           authorized_at=at(5))
        assert [(c.campaign_id, c.outreach_event_id) for c in credited] == [
            (campaign.id, visit.id)]
        assert attribute_authorization(s, fixmedins_code=code, uscc=None,
                                       authorized_at=at(5, 11)) == []
        third_code = s.get(ProspectRow, third).fixmedins_code  # type: ignore[union-attr]
        assert attribute_authorization(s, fixmedins_code=third_code or "", uscc=None,
                                       authorized_at=at(9)) == []  # no outreach before it
        assert attribute_authorization(s, fixmedins_code="H99999999999", uscc=None,
                                       authorized_at=at(9)) == []  # not on the list
        s.commit()
    with listed.unit_of_work() as s:
        assert current_states(s, prospect_ids=[first, third]) == {
            first: OutreachState.AUTHORIZED, third: OutreachState.AUTHORIZED}
        assert s.scalars(select(CampaignAttributionRow.client_manager_id)).all() == [cm.user_id]
        result = campaign_funnel(s, campaign_id=campaign.id)
        total = {step["stage"]: (step["count"], step["amount"]) for step in result["total"]}
        assert total == {"listed": (120, None), "contacted": (2, None),
                         "interested": (2, None), "authorized": (2, None),
                         "admitted": (1, "300000.00"), "reported": (1, "300000.00"),
                         "drawn": (1, "250000.00")}
        top = result["leaderboard"][0]
        assert (top["sub_branch"], top["drawn_count"], top["drawn_amount"],
                top["count_attainment"]) == ("DL006", 1, "250000.00", 0.5)
        scoped = campaign_funnel(s, campaign_id=campaign.id, sub_branches=frozenset({"DL001"}))
        assert set(scoped["by_sub_branch"]) == {"DL001"}
        assert scoped["total"][0]["count"] < 120
        with pytest.raises(NotFound):
            campaign_funnel(s, campaign_id=999)
        assert verify_chain(s) is None


def test_the_command_line_imports_lists_and_runs_a_campaign(
        staffed: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        db_url: str) -> None:
    monkeypatch.setenv("YIBAODAI_DATABASE_URL", db_url)
    monkeypatch.setenv("YIBAODAI_DEMO_MODE", "1")  # the fixtures' installations are demo ones
    runner = CliRunner()
    made = runner.invoke(app, ["sim", "bureau-list", str(tmp_path / "l.xlsx"),
                               "--institutions", "60"])
    assert made.exit_code == 0, made.output
    manifest = json.loads(made.stdout)
    result = runner.invoke(app, ["marketing", "import", str(tmp_path / "l.xlsx"), "--json",
                                 "--report", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"read", "new", "updated", "merged", "refused", "warnings"} <= set(report)
    assert (report["read"], report["new"], report["merged"]) == (
        manifest["data_rows"], 60, manifest["near_duplicates"])
    assert all(set(i) >= {"row", "reason"} for i in report["refused"] + report["warnings"])
    assert load_workbook(tmp_path / "r.xlsx").sheetnames[0] == "汇总"
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    bad = runner.invoke(app, ["marketing", "import", str(tmp_path / "bad.xlsx"), "--json"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["error"]["code"] == "list_unreadable"
    created = runner.invoke(app, ["marketing", "campaign", "create", "--name", "九月营销",
                                  "--start", "2026-09-01", "--end", "2026-09-30",
                                  "--user", "gm", "--target", "DL006=3:900000"])
    assert created.exit_code == 0, created.output
    listed_ = json.loads(runner.invoke(app, ["marketing", "campaign", "list", "--json"]).stdout)
    assert [(c["name"], c["target_count"], c["target_amount"]) for c in listed_] == [
        ("九月营销", 3, "900000.00")]
    funnel = json.loads(runner.invoke(app, ["marketing", "campaign", "funnel",
                                            str(listed_[0]["id"]), "--json"]).stdout)
    assert funnel["total"][0] == {"stage": "listed", "stage_zh": "名单内",
                                  "stage_en": "listed", "count": 60, "amount": None,
                                  "amount_wan": None}
    calls = runner.invoke(app, ["marketing", "calllist", "--manager", "cm_dl006_1", "--json",
                                "--xlsx", str(tmp_path / "c.xlsx")])
    assert calls.exit_code == 0, calls.output
    entries = json.loads(calls.stdout)["entries"]
    assert entries and all(e["tel"][0].startswith("tel:+86") for e in entries if e["phones"])
    pid = str(entries[0]["prospect_id"])
    refused = runner.invoke(app, ["marketing", "outcome", pid, "visited", "--user",
                                  "cm_dl006_1", "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "invalid_transition"
    ok = runner.invoke(app, ["marketing", "outcome", pid, "interested", "--user", "cm_dl006_1"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["to"] == "interested"

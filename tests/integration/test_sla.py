"""The SLA clocks on the Chinese working-day calendar, end to end: an injected clock moved
across the 2026 Spring Festival, Mid-Autumn and National Day holidays and their make-up
working days; reminders half a working day before a deadline, breaches, escalation to the
sub-branch manager then the branch, penalties and lifting them, through the sweep the worker
runs, the API and the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from tests.support.operator import run_cli
from yibaodai.cases.penalties import penalised_sub_branches
from yibaodai.cases.sla_sweep import run_sweep
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import AuditRow, CaseEventRow, CaseRow, SlaPenaltyRow, UserRow
from yibaodai.sim.server import ServerThread

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, 0, us, tzinfo=SHANGHAI)


def _ids(installation: Installation, *usernames: str) -> list[int]:
    with installation.bank.db.unit_of_work() as s:
        return [s.scalars(select(UserRow.id).where(UserRow.username == u)).one()
                for u in usernames]


def _sweep(installation: Installation, now: datetime) -> dict[str, list[tuple[str, int]]]:
    """Sweep at ``now``; who got which notice, and which cases broke their deadline."""
    with installation.bank.db.unit_of_work() as s:
        result = run_sweep(s, now=now)
        out = {"reminders": [(n.kind, n.user_id) for n in result.reminders],
               "escalations": [(n.kind, n.user_id) for n in result.escalations],
               "breaches": [(b.kind, b.case_id) for b in result.breaches]}
        s.commit()
        return out


@pytest.mark.parametrize(("assigned", "workdays", "printed"), [
    ("2026-11-27T10:00", 2, "2026-12-02T00:00:00+08:00"),      # Fri -> Mon, Tue
    ("2026-02-13T10:00", 2, "2026-02-25T00:00:00+08:00"),      # make-up Sat 02-14, then 02-24
    ("2026-09-24T16:00", 2, "2026-09-30T00:00:00+08:00"),      # Mid-Autumn 09-25..27 off
    ("2026-09-19T09:00", 2, "2026-09-22T00:00:00+08:00"),      # make-up Sun 09-20
    ("2026-09-30T10:00", 2, "2026-10-10T00:00:00+08:00"),      # National Day 10-01..07 off
    ("2026-10-09T15:00", 2, "2026-10-13T00:00:00+08:00"),      # make-up Sat 10-10, Sun off
    ("2026-10-09T15:00+00:00", 1, "2026-10-11T00:00:00+08:00"),  # Fri 23:00 Shanghai
    ("2026-10-09T17:00+00:00", 1, "2026-10-13T00:00:00+08:00"),  # Sat 01:00 Shanghai
])
def test_sla_due_prints_the_deadline_as_24_00_with_its_offset(
        installation: Installation, assigned: str, workdays: int, printed: str) -> None:
    r = run_cli(installation.settings, "sla", "due", "--assigned", assigned,
                "--workdays", str(workdays))
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == printed


def test_sla_due_past_the_calendar_counts_monday_to_friday_and_says_so(
        installation: Installation) -> None:
    r = run_cli(installation.settings, "sla", "due", "--assigned", "2031-01-30T10:00",
                "--workdays", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "2031-02-04T00:00:00+08:00"  # Fri -> Mon 02-03, Tue 02-04
    assert "2031" in r.stderr and "Monday-Friday" in r.stderr


def test_spring_festival_reminder_breach_and_escalations_follow_the_working_days(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        with installation.bank.db.unit_of_work() as s:  # the case came in before the holiday
            case = s.scalars(select(CaseRow)).one()
            case.assigned_at = at(2026, 2, 13, 10)
            s.commit()
            case_id, sub = case.id, case.sub_branch_code.lower()
        mgr, gm = _ids(installation, f"mgr_{sub}", "gm")
        # due at the end of Tue 02-24 (Sat 02-14 is a make-up day, 02-15..23 off)
        assert _sweep(installation, at(2026, 2, 24, 12, 59)) == {
            "reminders": [], "escalations": [], "breaches": []}
        with installation.bank.db.unit_of_work() as s:
            deadline = s.get(CaseRow, case_id).claim_deadline  # type: ignore[union-attr]
            assert deadline == at(2026, 2, 25) - timedelta(microseconds=1)
        assert _sweep(installation, at(2026, 2, 24, 13))["reminders"] == [
            ("sla_reminder", mgr)]
        assert _sweep(installation, at(2026, 2, 24, 23, 59))["reminders"] == []  # once only
        late = _sweep(installation, at(2026, 2, 25, 0, 0, 1))
        assert late["breaches"] == [("claim", case_id)]
        assert late["escalations"] == [("sla_escalation_sub_branch", mgr)]
        assert _sweep(installation, at(2026, 2, 25, 23, 59)) == {
            "reminders": [], "escalations": [], "breaches": []}
        assert _sweep(installation, at(2026, 2, 26, 0, 0, 1))["escalations"] == [
            ("sla_escalation_branch", gm)]
        with installation.bank.db.unit_of_work() as s:
            penalty = s.scalars(select(SlaPenaltyRow)).one()
            assert penalty.until == at(2026, 3, 27) - timedelta(microseconds=1)
            events = [e.event for e in s.scalars(select(CaseEventRow).where(
                CaseEventRow.case_id == case_id))]
            assert events == ["assigned", "sla_breach"]
            assert s.scalars(select(AuditRow.action).where(
                AuditRow.action == "sla.breach")).all() == ["sla.breach"]


def test_mid_autumn_and_national_day_then_the_branch_lifts_the_penalty(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    installation.clock.set(at(2026, 9, 24, 16))  # the day before Mid-Autumn
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        with installation.bank.db.unit_of_work() as s:
            case = s.scalars(select(CaseRow)).one()
            case_id, sub, code = case.id, case.sub_branch_code.lower(), case.sub_branch_code
            assert case.claim_deadline == at(2026, 9, 30) - timedelta(microseconds=1)
        cm, mgr, gm = _ids(installation, f"cm_{sub}_1", f"mgr_{sub}", "gm")
        installation.clock.set(at(2026, 9, 29, 14))
        assert _sweep(installation, installation.clock.now())["reminders"] == [
            ("sla_reminder", mgr)]
        assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{case_id}/claim").status_code == 200
        # verification due at the end of Thu 10-08: 09-30 is day 1, 10-01..07 off
        assert _sweep(installation, at(2026, 10, 8, 12))["reminders"] == []
        assert _sweep(installation, at(2026, 10, 8, 13, 30))["reminders"] == [
            ("sla_reminder", cm)]
        late = _sweep(installation, at(2026, 10, 9, 0, 0, 1))
        assert late["breaches"] == [("verification", case_id)]
        assert late["escalations"] == [("sla_escalation_sub_branch", mgr)]
        # one working day later (Fri 10-09) still unverified: the branch hears of it
        assert _sweep(installation, at(2026, 10, 9, 23))["escalations"] == []
        assert _sweep(installation, at(2026, 10, 10, 0, 0, 1))["escalations"] == [
            ("sla_escalation_branch", gm)]
        installation.clock.set(at(2026, 10, 10, 9))
        inbox = w.api("GET", f"cm_{sub}_1", "/api/me/notifications").json()["items"]
        assert [(n["kind"], n["case_id"]) for n in inbox] == [("sla_reminder", case_id)]
        listed = w.api("GET", "gm", "/api/sla/penalties").json()["items"]
        assert [(p["sub_branch_code"], p["kind"], p["active"]) for p in listed] == [
            (code, "verification", True)]
        with installation.bank.db.unit_of_work() as s:
            assert penalised_sub_branches(s, installation.clock.now()) == {code}
        path = f"/api/sla/penalties/{listed[0]['id']}/lift"
        assert w.api("POST", f"mgr_{sub}", path, json={"reason": "已整改"}).status_code == 403
        bad = w.api("POST", "gm", path, json={"reason": " "})
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "reason"
        r = w.api("POST", "gm", path, json={"reason": "节后人手已补足 / staffed again"})
        assert r.status_code == 200 and r.json()["active"] is False
        assert r.json()["lifted_by"] == "gm"
        assert w.api("POST", "gm", path, json={"reason": "again"}).status_code == 409
        with installation.bank.db.unit_of_work() as s:
            assert penalised_sub_branches(s, installation.clock.now()) == frozenset()
            assert s.scalars(select(AuditRow.action).where(
                AuditRow.action == "sla.penalty_lifted")).all() == ["sla.penalty_lifted"]


def test_sla_sweep_command_runs_the_same_idempotent_sweep(
        installation: Installation, bank_server: ServerThread,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)  # assigned Tue 09-01 09:00: claim due at the end of Thu 09-03
    first = run_cli(installation.settings, "sla", "sweep", "--at", "2026-09-04T08:00",
                    "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["breaches"], summary["escalations"]) == (1, 1)
    again = json.loads(run_cli(installation.settings, "sla", "sweep", "--at",
                               "2026-09-04T08:00", "--json").stdout)
    assert (again["reminders"], again["breaches"], again["escalations"]) == (0, 0, 0)
    listed = run_cli(installation.settings, "sla", "penalties", "--json")
    assert [p["kind"] for p in json.loads(listed.stdout)] == ["claim"]
    penalty_id = str(json.loads(listed.stdout)[0]["id"])
    cm = next(u for u in installation.accounts if u.startswith("cm_"))
    monkeypatch.setenv("YIBAODAI_PASSWORD", installation.accounts[cm].password)
    refused = run_cli(installation.settings, "sla", "lift", penalty_id, "--reason", "已整改",
                      "--user", cm)
    assert refused.exit_code == 1 and "role_not_allowed" in refused.stderr
    monkeypatch.setenv("YIBAODAI_PASSWORD", installation.accounts["gm"].password)
    over = run_cli(installation.settings, "sla", "lift", penalty_id, "--reason", "已整改",
                   "--user", "gm")  # the system clock is past the 30 days of 2026-09-03
    assert over.exit_code == 1 and "penalty_not_active" in over.stderr


def test_the_screen_says_when_coming_deadlines_pass_the_official_calendar(
        installation: Installation, bank_server: ServerThread, tmp_path: Path) -> None:
    """``GET /api/sla/calendar`` as the clock moves past chinese_calendar's years (to 2026),
    then with the bank's holiday table for 2027 configured."""
    account = installation.accounts["gm"]

    def status() -> dict[str, object]:  # signs in again: a moved clock ends the session
        token = httpx.post(f"{bank_server.url}/api/auth/token", json={
            "username": account.username, "password": account.password}).json()["token"]
        r = httpx.get(f"{bank_server.url}/api/sla/calendar", timeout=60,
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body

    installation.clock.set(at(2026, 11, 1, 9))
    assert status()["covered"] is True and status()["warning"] is None
    installation.clock.set(at(2026, 12, 1, 9))  # 45 days ahead reach 2027
    uncovered = status()
    assert uncovered["covered"] is False
    assert "2027" in str(uncovered["warning"]) and "节假日" in str(uncovered["warning"])
    table = tmp_path / "holidays.json"
    table.write_text(json.dumps({"2027-01-01": False, "2027-02-20": True}), "utf-8")
    installation.settings.holidays_file = table
    assert status()["covered"] is True
    installation.clock.set(at(2027, 12, 1, 9))
    assert "2028" in str(status()["warning"])

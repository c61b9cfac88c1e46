"""Issue 11, after a warning is raised: it is published to the client manager (inbox and the
pluggable notifier, through the message bus), "reduce limit" and "freeze" reach head office
through the outbox and show on the case, unhandled warnings escalate on working days, all
through real HTTP and the real simulators, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.cases.notify import use_notifier
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    CaseEventRow,
    CaseRow,
    LimitActionRow,
    NotificationRow,
    OutboxRow,
    WarningRow,
)
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.ews.handling import deadline
from yibaodai.monitoring.handlers import monitor
from yibaodai.monitoring.service import escalate_overdue
from yibaodai.runtime import build_worker
from yibaodai.sim.server import ServerThread


class RecordingNotifier:
    """A notifier that keeps what it was told (a real SMS adapter would send it)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []

    def send(self, notice: NotificationRow) -> None:
        self.sent.append((notice.user_id, notice.kind, notice.message_zh))


@pytest.fixture
def notifier() -> Iterator[RecordingNotifier]:
    plugged = RecordingNotifier()
    previous = use_notifier(plugged)
    yield plugged
    use_notifier(previous)


def _drawn_case(w: World, installation: Installation) -> CaseRow:
    inst = likely_admitted(city())[0]
    w.onboard(inst)
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).where(
            CaseRow.fixmedins_code == inst.fixmedins_code)).one()
        s.expunge(case)
    w.confirm(case.id, case.sub_branch_code)
    w.dispatcher.dispatch_due()
    return case


def _run_rules(installation: Installation, at: datetime) -> list[str]:
    """The monthly job's work: run the rules and publish what they found on the bus."""
    installation.clock.set(at)
    with installation.bank.db.unit_of_work() as s:
        events = monitor(s, now=at)
        installation.bank.bus.publish(s, events)
        s.commit()
    return [type(e).__name__ for e in events]


def _collapse(w: World, installation: Installation, month: int) -> None:
    """A month with only three days of business: income collapses."""
    inst = likely_admitted(city())[0]
    installation.clock.set(datetime(2026, month + 1, 1, 8, 0, tzinfo=SHANGHAI))
    for answer in w.pusher.push_settlements(inst, start=date(2026, month, 1),
                                            end=date(2026, month, 3)):
        assert answer.infcode == 0


def _notices(w: World, username: str) -> list[dict[str, object]]:
    r = w.api("GET", username, "/api/me/notifications")
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_a_new_warning_and_a_raised_level_are_published_to_the_client_manager_once(
        installation: Installation, bank_server: ServerThread,
        notifier: RecordingNotifier) -> None:
    with world(installation, bank_server.url) as w:
        case = _drawn_case(w, installation)
        sub = case.sub_branch_code.lower()
        cm = f"cm_{sub}_1"
        _collapse(w, installation, 9)
        assert _run_rules(installation, datetime(2026, 10, 1, 9, tzinfo=SHANGHAI)) == [
            "WarningRaised"]
        (notice,) = _notices(w, cm)
        assert notice["kind"] == "warning_raised" and notice["case_id"] == case.id
        assert "橙色" in str(notice["message_zh"])
        assert [(kind) for _, kind, _ in notifier.sent] == ["warning_raised"]
        assert _run_rules(installation, datetime(2026, 10, 1, 10, tzinfo=SHANGHAI)) == []
        assert len(_notices(w, cm)) == 1 and len(notifier.sent) == 1  # told once
        # the department manager is not disturbed, but sees the warning in the inbox
        assert _notices(w, f"mgr_{sub}") == []
        seen = w.api("GET", f"mgr_{sub}", "/api/warnings").json()["items"]
        assert [x["rule_code"] for x in seen] == ["W01"]
        # October is as bad: W01 goes from orange to red (and W04 finds the new level)
        _collapse(w, installation, 10)
        events = _run_rules(installation, datetime(2026, 11, 1, 9, tzinfo=SHANGHAI))
        assert sorted(events) == ["WarningLevelRaised", "WarningRaised"]
        kinds = sorted(str(n["kind"]) for n in _notices(w, cm))
        assert kinds == ["warning_level_raised", "warning_raised", "warning_raised"]
        assert len(notifier.sent) == 3
        assert _notices(w, f"cm_{sub}_2") == []  # only the case's client manager


def test_reduce_limit_goes_to_head_office_through_the_outbox_and_shows_on_the_case(
        installation: Installation, bank_server: ServerThread,
        notifier: RecordingNotifier) -> None:
    with world(installation, bank_server.url) as w:
        case = _drawn_case(w, installation)
        sub = case.sub_branch_code.lower()
        cm = f"cm_{sub}_1"
        _collapse(w, installation, 9)
        _run_rules(installation, datetime(2026, 10, 1, 9, tzinfo=SHANGHAI))
        (warning,) = w.api("GET", cm, "/api/warnings").json()["items"]
        assert warning["can_handle"] is True
        empty = w.api("GET", cm, f"/api/cases/{case.id}/limit-actions").json()
        assert empty == {"current": None, "items": []}
        r = w.api("POST", cm, f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "电话核实：主要科室停诊，收入难以恢复", "outcome_kind": "risk_confirmed",
            "action": "reduce_limit"})
        assert r.status_code == 200, r.text
        with installation.bank.db.unit_of_work() as s:
            (row,) = s.scalars(select(OutboxRow).where(OutboxRow.kind == "limit_action")).all()
            assert row.destination == "headoffice" and row.status == "pending"
            assert row.payload["action"] == "reduce_limit"
            assert row.payload["case_id"] == case.id
        pending = w.api("GET", cm, f"/api/cases/{case.id}/limit-actions").json()["current"]
        assert (pending["action"], pending["status"]) == ("reduce_limit", "pending")
        assert pending["action_zh"] == "压降额度"
        before = {m["input"]["data"][0].get("warning_id")
                  for m in w.head_office_inbox.messages.values()}
        assert warning["id"] not in before  # nothing leaves before the dispatcher runs
        assert w.dispatcher.dispatch_due() == 1
        sent = [m for m in w.head_office_inbox.messages.values() if m["infno"] == "8502"]
        assert [m["input"]["data"][0]["action"] for m in sent] == ["reduce_limit"]
        ho_url = w.dispatcher.endpoints["headoffice"].url.rsplit("/fsi/", 1)[0]
        limits = httpx.get(f"{ho_url}/sim/limits").json()["limits"]
        assert limits[str(case.id)]["action"] == "reduce_limit"
        shown = w.api("GET", f"mgr_{sub}", f"/api/cases/{case.id}/limit-actions").json()
        assert shown["current"]["status"] == "acknowledged"
        assert shown["current"]["ho_ref"] == limits[str(case.id)]["ho_ref"]
        assert w.dispatcher.dispatch_due() == 0  # sent once
        again = w.api("POST", cm, f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "再次提交", "outcome_kind": "risk_confirmed", "action": "freeze"})
        assert again.status_code == 409
        with installation.bank.db.unit_of_work() as s:
            events = s.scalars(select(CaseEventRow.event).where(
                CaseEventRow.case_id == case.id).order_by(CaseEventRow.id)).all()
            assert events[-2:] == ["limit_action_requested", "limit_action_acknowledged"]
            assert s.scalar(select(func.count()).select_from(LimitActionRow)) == 1
        detail = w.api("GET", cm, f"/api/cases/{case.id}").json()
        assert "limit_action_acknowledged" in str(detail)


def test_watching_sends_nothing_to_head_office(
        installation: Installation, bank_server: ServerThread,
        notifier: RecordingNotifier) -> None:
    with world(installation, bank_server.url) as w:
        case = _drawn_case(w, installation)
        cm = f"cm_{case.sub_branch_code.lower()}_1"
        _collapse(w, installation, 9)
        _run_rules(installation, datetime(2026, 10, 1, 9, tzinfo=SHANGHAI))
        (warning,) = w.api("GET", cm, "/api/warnings").json()["items"]
        r = w.api("POST", cm, f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "装修停业三周，已恢复营业", "outcome_kind": "explained", "action": "watch"})
        assert r.status_code == 200, r.text
        with installation.bank.db.unit_of_work() as s:
            assert s.scalars(select(OutboxRow).where(OutboxRow.kind == "limit_action")
                             ).all() == []
        assert w.api("GET", cm, f"/api/cases/{case.id}/limit-actions").json()["current"] is None


def test_an_unhandled_warning_escalates_to_the_department_then_the_branch_who_may_handle_it(
        installation: Installation, bank_server: ServerThread,
        notifier: RecordingNotifier) -> None:
    with world(installation, bank_server.url) as w:
        case = _drawn_case(w, installation)
        sub = case.sub_branch_code.lower()
        _collapse(w, installation, 9)
        _run_rules(installation, datetime(2026, 10, 1, 9, tzinfo=SHANGHAI))
        (warning,) = w.api("GET", f"cm_{sub}_1", "/api/warnings").json()["items"]
        assert warning["level"] == "orange"
        refused = w.api("POST", "gm", f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "分行先处理", "outcome_kind": "explained", "action": "watch"})
        assert refused.status_code == 403
        assert refused.json()["code"] == "not_escalated_to_branch"
        # raised Thursday 1 October, in the National Day holiday; orange configured to 2
        # working days (Thursday 8 and Friday 9 October), twice that for the branch
        days = {"red": 1, "orange": 2, "yellow": 5, "blue": 10}
        raised = datetime.fromisoformat(warning["raised_at"])
        due = deadline("orange", raised, WorkingDayCalendar(), days)
        assert due.date() > date(2026, 10, 8)  # the holiday does not count
        with installation.bank.db.unit_of_work() as s:
            assert escalate_overdue(s, now=due - timedelta(minutes=1), deadline_days=days) == []
            (up,) = escalate_overdue(s, now=due + timedelta(minutes=1), deadline_days=days)
            assert (up.state, up.escalation) == ("escalated", "department")
            s.commit()
        with installation.bank.db.unit_of_work() as s:  # idempotent
            assert escalate_overdue(s, now=due + timedelta(hours=2), deadline_days=days) == []
        assert [n["kind"] for n in _notices(w, f"mgr_{sub}")] == ["warning_escalation_department"]
        cm_view = w.api("GET", f"cm_{sub}_1", f"/api/warnings/{warning['id']}").json()
        assert cm_view["can_handle"] is False
        with installation.bank.db.unit_of_work() as s:
            branch_due = deadline("orange", raised, WorkingDayCalendar(),
                                  {k: 2 * v for k, v in days.items()})
            (up,) = escalate_overdue(s, now=branch_due + timedelta(minutes=1),
                                     deadline_days=days)
            assert up.escalation == "branch"
            s.commit()
        assert [n["kind"] for n in _notices(w, "gm")] == ["warning_escalation_branch"]
        assert w.api("GET", "gm", f"/api/warnings/{warning['id']}").json()["can_handle"]
        r = w.api("POST", "gm", f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "分行核实：停诊整改", "outcome_kind": "risk_confirmed", "action": "freeze"})
        assert r.status_code == 200, r.text
        with installation.bank.db.unit_of_work() as s:
            handled = s.get_one(WarningRow, warning["id"])
            assert (handled.state, handled.action) == ("closed", "freeze")
            (row,) = s.scalars(select(LimitActionRow)).all()
            assert row.action == "freeze"
        history = w.api("GET", "gm", f"/api/warnings/{warning['id']}").json()["history"]
        assert [h["action"] for h in history] == ["raised", "escalated", "escalated", "handled"]


def test_the_worker_publishes_escalates_on_its_clock_and_delivers_the_freeze(
        installation: Installation, bank_server: ServerThread,
        notifier: RecordingNotifier) -> None:
    with world(installation, bank_server.url) as w:
        case = _drawn_case(w, installation)
        sub = case.sub_branch_code.lower()
        ends = w.dispatcher.endpoints
        worker = build_worker(installation.bank, bureau_url=ends["bureau"].url,
                              head_office_url=ends["headoffice"].url)
        _collapse(w, installation, 9)
        installation.clock.set(datetime(2026, 10, 1, 9, tzinfo=SHANGHAI))
        ran = {o.job: o.counts for o in worker.run_due()}
        # the new data's deferred run raises it (the monthly run then finds nothing new)
        assert ran["deferred_events"]["handled"] >= 1 and ran["monitoring"] == {"warnings": 0}
        (warning,) = w.api("GET", f"cm_{sub}_1", "/api/warnings").json()["items"]
        assert [k for _, k, _ in notifier.sent] == ["warning_raised"]
        due = datetime.fromisoformat(warning["deadline"])
        installation.clock.set(due + timedelta(hours=2))
        ran = {o.job: o.counts for o in worker.run_due()}
        assert ran["warning_escalation"] == {"escalated": 1}
        installation.clock.advance(timedelta(hours=2))
        ran = {o.job: o.counts for o in worker.run_due()}
        assert ran.get("warning_escalation", {"escalated": 0}) == {"escalated": 0}
        assert [n["kind"] for n in _notices(w, f"mgr_{sub}")] == ["warning_escalation_department"]
        r = w.api("POST", f"mgr_{sub}", f"/api/warnings/{warning['id']}/outcome", json={
            "outcome": "部门经理实地核查：停业", "outcome_kind": "risk_confirmed",
            "action": "freeze"})
        assert r.status_code == 200, r.text
        ran = {o.job: o.counts for o in worker.run_due()}
        assert ran["outbox"] == {"delivered": 1}
        limits = w.api("GET", f"cm_{sub}_1", f"/api/cases/{case.id}/limit-actions").json()
        assert (limits["current"]["action"], limits["current"]["status"]) == (
            "freeze", "acknowledged")
        worker.close()

"""Issue 11's bureau events (credit-grade downgrade, penalty points on staff, designation
ending soon) and an external source wired end to end: the court-enforcement simulator over
HTTP -> a stored fact -> the deferred rules -> a W09 warning for the client manager. Real
HTTP, the real simulators, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.db.models import CaseRow, ExternalFactRow, NotificationRow, WarningRow
from yibaodai.monitoring.handlers import monitor
from yibaodai.monitoring.sources import CourtEnforcementSource, fetch_external
from yibaodai.sim.court import court_app
from yibaodai.sim.server import ServerThread
from yibaodai.worker import deferred


def _drawn(w: World, installation: Installation) -> CaseRow:
    inst = likely_admitted(city())[0]
    w.onboard(inst)
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).where(
            CaseRow.fixmedins_code == inst.fixmedins_code)).one()
        s.expunge(case)
    w.confirm(case.id, case.sub_branch_code)
    w.dispatcher.dispatch_due()
    return case


def _w03(installation: Installation) -> WarningRow | None:
    with installation.bank.db.unit_of_work() as s:
        installation.bank.bus.publish(s, monitor(s, now=installation.clock.now()))
        s.commit()
        row = s.scalars(select(WarningRow).where(WarningRow.rule_code == "W03")).first()
        if row is not None:
            s.expunge(row)
        return row


def test_staff_penalty_points_a_grade_downgrade_and_a_designation_ending_soon_warn(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        _drawn(w, installation)
        installation.clock.advance(timedelta(days=2))
        today = installation.clock.today()
        answer = w.pusher.push_staff_points(inst, on=today, staff="医保医师", points=3)
        assert answer.infcode == 0, answer.err_msg
        first = _w03(installation)
        assert first is not None and first.severity == "yellow"
        assert "医保医师记3分" in first.reasons[-1]["text_zh"]
        w.pusher.push_staff_points(inst, on=today, staff="医保药师", points=2)
        second = _w03(installation)
        assert second is not None and (second.id, second.severity) == (first.id, "orange")
        w.pusher.push_grade_change(inst, new_grade="C", on=today)
        graded = _w03(installation)
        assert graded is not None and "信用等级下调" in graded.reasons[-1]["text_zh"]
        assert graded.inputs["credit_grade"] == "C"
        w.pusher.push_designation_end(inst, ends=today + timedelta(days=30))
        ending = _w03(installation)
        assert ending is not None and "定点协议将于30天后到期" in ending.reasons[-1]["text_zh"]
        with installation.bank.db.unit_of_work() as s:  # one open warning, updated
            assert s.scalar(select(func.count()).select_from(WarningRow).where(
                WarningRow.rule_code == "W03")) == 1
            kinds = s.scalars(select(NotificationRow.kind).order_by(NotificationRow.id)).all()
            assert kinds == ["warning_raised", "warning_level_raised"]


def test_a_court_enforcement_record_becomes_a_warning_through_the_external_source(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    app, court = court_app()
    with world(installation, bank_server.url) as w, ServerThread(app) as court_server:
        case = _drawn(w, installation)
        installation.clock.advance(timedelta(days=5))
        source = CourtEnforcementSource(court_server.url)
        with installation.bank.db.unit_of_work() as s:  # nothing on the list yet
            assert fetch_external(s, [source], now=installation.clock.now()) == []
        r = httpx.post(f"{court_server.url}/sim/court/records", json={
            "uscc": inst.uscc, "case_no": "(2026)辽0203执1234号", "amount": "86000.00",
            "filed_on": installation.clock.today().isoformat(), "status": "dishonest"})
        assert r.status_code == 200
        httpx.post(f"{court_server.url}/sim/court/records", json={  # another institution
            "uscc": "91210200MA0000000X", "case_no": "x", "amount": "1",
            "filed_on": installation.clock.today().isoformat()})
        with installation.bank.db.unit_of_work() as s:
            events = fetch_external(s, [source], now=installation.clock.now())
            assert [(e.fixmedins_code, e.kind) for e in events] == [
                (inst.fixmedins_code, "court_dishonest")]
            installation.bank.bus.publish(s, events)  # deferred: queued with the fact
            s.commit()
        with installation.bank.db.unit_of_work() as s:  # asked again: stored once
            assert fetch_external(s, [source], now=installation.clock.now()) == []
            assert s.scalar(select(func.count()).select_from(ExternalFactRow)) == 1
        run = deferred.handle_due(installation.bank.db, installation.bank.bus,
                                  now=installation.clock.now() + timedelta(seconds=1))
        assert run.handled >= 1 and run.failed == 0
        cm = f"cm_{case.sub_branch_code.lower()}_1"
        (warning,) = [x for x in w.api("GET", cm, "/api/warnings").json()["items"]
                      if x["rule_code"] == "W09"]
        assert warning["level"] == "red" and "失信被执行人" in warning["explanation_zh"]
        notices = w.api("GET", cm, "/api/me/notifications").json()["items"]
        assert [n["kind"] for n in notices] == ["warning_raised"]
        assert court.queries == 3
        source.close()


def test_the_external_sources_job_runs_only_when_a_source_is_configured(
        installation: Installation) -> None:
    from yibaodai.worker.jobs import standard_jobs

    names = {j.name for j in standard_jobs(db=installation.bank.db, bus=installation.bank.bus,
                                          dispatcher=None, settings=installation.settings)}
    assert "external_sources" not in names
    configured = installation.settings.model_copy(update={
        "court_source_url": "http://127.0.0.1:9"})
    names = {j.name for j in standard_jobs(db=installation.bank.db, bus=installation.bank.bus,
                                          dispatcher=None, settings=configured)}
    assert "external_sources" in names

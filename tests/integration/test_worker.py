"""The worker on the simulated clock, on SQLite and PostgreSQL: what is due runs once and is
recorded, leases keep one holder, deferred handlers run once per event, a stop finishes the
send in progress, and replaying an event changes nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import Installation
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.bootstrap import keyring
from yibaodai.cli import app
from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.db.models import (
    AuditRow,
    CaseEventRow,
    CaseRow,
    FlowEventRow,
    JobRunRow,
    OutboxRow,
    WarningRow,
)
from yibaodai.db.session import Database
from yibaodai.domain.events import DecisionMade, MessageDelivered, ProfileChanged
from yibaodai.flow.bus import MessageBus, event_from_json
from yibaodai.outbound.connector import Endpoint
from yibaodai.runtime import build_worker
from yibaodai.sim.peer import receiving_app
from yibaodai.sim.server import ServerThread
from yibaodai.worker import deferred, leases
from yibaodai.worker.dispatcher import HANDLER_FAILED, MAX_ATTEMPTS, Dispatcher
from yibaodai.worker.jobs import standard_jobs
from yibaodai.worker.runner import RETRY_AFTER, Job, Worker
from yibaodai.worker.schedules import Every

AT = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def live(installation: Installation, bank_server: ServerThread) -> Iterator[World]:
    with world(installation, bank_server.url) as w:
        yield w


def _worker(w: World) -> Worker:
    ends = w.dispatcher.endpoints
    return build_worker(w.installation.bank, bureau_url=ends["bureau"].url,
                        head_office_url=ends["headoffice"].url)


def _the_case(db: Database) -> tuple[int, str]:
    with db.unit_of_work() as s:
        case = s.scalars(select(CaseRow)).one()
        return case.id, case.sub_branch_code


def _runs(db: Database, job: str) -> list[JobRunRow]:
    with db.unit_of_work() as s:
        runs = list(s.scalars(select(JobRunRow).where(JobRunRow.job == job)
                              .order_by(JobRunRow.id)))
        s.expunge_all()  # readable after the unit of work
        return runs


def test_one_tick_delivers_the_answer_and_runs_each_scheduled_job_once(live: World) -> None:
    live.onboard(likely_admitted(city())[0])
    worker = _worker(live)
    ran = {o.job: o.counts for o in worker.run_due()}
    assert ran["outbox"] == {"delivered": 1} and len(live.bureau_inbox.messages) == 1
    assert {"sla_sweep", "warning_escalation", "monitoring", "retention"} <= set(ran)
    assert worker.run_due() == []  # nothing is due at the same moment again
    live.installation.clock.advance(timedelta(minutes=5))
    assert [o.job for o in worker.run_due()] == ["sla_sweep"]
    db = live.installation.bank.db
    assert len(_runs(db, "sla_sweep")) == 2 and len(_runs(db, "monitoring")) == 1
    (outbox_run,) = _runs(db, "outbox")  # idle queue runs are not recorded
    assert outbox_run.outcome == "ok" and outbox_run.counts == {"delivered": 1}
    worker.close()


def test_monitoring_after_new_data_runs_once_and_replaying_its_event_changes_nothing(
        live: World) -> None:
    inst = likely_admitted(city())[0]
    live.onboard(inst)
    worker = _worker(live)
    live.confirm(*_the_case(live.installation.bank.db))
    worker.run_due()
    live.installation.clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI))
    live.pusher.push_settlements(inst, start=date(2026, 9, 1), end=date(2026, 9, 3))
    db, bus = live.installation.bank.db, live.installation.bank.bus
    with db.unit_of_work() as s:  # queued in the push's transaction, not handled yet
        (row,) = s.scalars(select(FlowEventRow).where(
            FlowEventRow.event_type == "SettlementDataStored",
            FlowEventRow.published_at == live.installation.clock.now())).all()
        assert row.status == "pending" and s.scalar(select(func.count(WarningRow.id))) == 0
        row_id = row.id
    ran = {o.job: o.counts for o in worker.run_due()}
    assert ran["deferred_events"]["handled"] >= 1
    with db.unit_of_work() as s:
        assert [w.rule_code for w in s.scalars(select(WarningRow))] == ["W01"]
        row = s.get(FlowEventRow, row_id)
        assert row is not None and row.status == "done"
        key = row.event_key
        bus.handle_deferred(s, row)  # the same event again
        bus.publish(s, [event_from_json(row.event_type, row.payload)])  # not queued twice
        s.commit()
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(WarningRow.id))) == 1
        assert s.scalar(select(func.count(FlowEventRow.id)).where(
            FlowEventRow.event_key == key)) == 1
    worker.close()


def test_replaying_a_decision_opens_no_second_case_and_queues_no_second_answer(
        live: World) -> None:
    live.onboard(likely_admitted(city())[0])
    db, bus = live.installation.bank.db, live.installation.bank.bus

    def counts() -> tuple[int, int, int]:
        with db.unit_of_work() as s:
            return (int(s.scalar(select(func.count(CaseRow.id))) or 0),
                    int(s.scalar(select(func.count(OutboxRow.id))) or 0),
                    int(s.scalar(select(func.count(CaseEventRow.id))) or 0))

    before = counts()
    with db.unit_of_work() as s:
        decision = s.scalars(select(CaseRow)).one().decision_id
        (answer,) = s.scalars(select(OutboxRow)).all()
        event = DecisionMade(at=live.installation.clock.now(), decision_id=decision,
                             fixmedins_code=answer.payload["fixmedins_code"],
                             result="admitted", credit_limit=answer.payload["credit_limit"],
                             supersedes=None)
        handled = bus.publish(s, [event])
        s.commit()
    assert handled == [event]  # no CaseAssigned: the open case is kept
    assert counts() == before == (1, 1, 1)


def test_a_delivered_whitelist_entry_marks_the_case_reported_once(live: World) -> None:
    live.onboard(likely_admitted(city())[0])
    db = live.installation.bank.db
    case_id, sub_branch = _the_case(db)
    live.confirm(case_id, sub_branch)
    assert live.dispatcher.dispatch_due() == 2  # the answer, then the whitelist entry
    with db.unit_of_work() as s:
        (sent,) = s.scalars(select(OutboxRow).where(OutboxRow.kind == "whitelist_entry"))
        replay = MessageDelivered(at=live.installation.clock.now(), outbox_id=sent.id,
                                  destination=sent.destination, kind=sent.kind,
                                  idempotency_key=sent.idempotency_key, payload=sent.payload,
                                  answer=sent.response or {})
        live.installation.bank.bus.publish(s, [replay])
        s.commit()
    with db.unit_of_work() as s:
        assert s.get(CaseRow, case_id).state == "reported"  # type: ignore[union-attr]
        assert s.scalar(select(func.count(CaseEventRow.id)).where(
            CaseEventRow.event == "mark_reported")) == 1


def test_a_lease_has_one_holder_until_released_or_expired(db: Database) -> None:
    ttl = timedelta(minutes=10)
    assert leases.acquire(db, job="j", holder="a", now=AT, lease_for=ttl)
    assert not leases.acquire(db, job="j", holder="b", now=AT, lease_for=ttl)
    assert leases.acquire(db, job="j", holder="a", now=AT, lease_for=ttl)  # its own again
    leases.release(db, job="j", holder="b")  # not b's to release
    assert not leases.acquire(db, job="j", holder="b", now=AT + ttl / 2, lease_for=ttl)
    assert leases.acquire(db, job="j", holder="b", now=AT + 2 * ttl, lease_for=ttl)  # expired
    leases.release(db, job="j", holder="b")
    assert leases.acquire(db, job="j", holder="a", now=AT + 2 * ttl, lease_for=ttl)


def test_a_failing_job_is_recorded_retried_later_and_does_not_stop_the_others(
        db: Database) -> None:
    clock = SimulatedClock(AT)
    calls: list[str] = []

    def broken(now: datetime, stop: threading.Event) -> dict[str, int]:
        calls.append("broken")
        raise RuntimeError("the bureau's data is late")

    def fine(now: datetime, stop: threading.Event) -> dict[str, int]:
        calls.append("fine")
        return {"done": 1}

    every_minute = Every(timedelta(minutes=1))
    worker = Worker(db=db, clock=clock, holder="w", lease_for=timedelta(minutes=5),
                    jobs=[Job("broken", broken, "fails", schedule=every_minute),
                          Job("fine", fine, "works", schedule=every_minute)])
    assert [(o.job, o.outcome) for o in worker.run_due()] == [("broken", "failed"),
                                                             ("fine", "ok")]
    (failed,) = _runs(db, "broken")
    assert failed.outcome == "failed" and "the bureau's data is late" in (failed.error or "")
    clock.advance(timedelta(minutes=1))
    assert [o.job for o in worker.run_due()] == ["fine"]  # broken waits RETRY_AFTER
    clock.advance(RETRY_AFTER)
    assert "broken" in [o.job for o in worker.run_due()]
    assert calls.count("broken") == 2


def _failing_bus(times: list[int]) -> MessageBus:
    def flaky(session: Any, event: ProfileChanged) -> None:
        times.append(1)
        raise ValueError("handler bug")

    return MessageBus(handlers={}, deferred={ProfileChanged: [flaky]})


def test_a_failing_deferred_handler_is_retried_then_left_dead_with_its_error(
        db: Database) -> None:
    calls: list[int] = []
    bus = _failing_bus(calls)
    with db.unit_of_work() as s:
        bus.publish(s, [ProfileChanged(at=AT, fixmedins_code="P21020200001", msgid="M1")])
        s.commit()
    now = AT
    for attempt in range(1, deferred.MAX_ATTEMPTS + 1):
        run = deferred.handle_due(db, bus, now=now)
        assert (run.handled, run.failed) == (0, 1)
        with db.unit_of_work() as s:
            row = s.scalars(select(FlowEventRow)).one()
            assert row.attempts == attempt and row.last_error == "ValueError: handler bug"
            now, status = row.next_attempt_at, row.status
        assert deferred.handle_due(db, bus, now=now - timedelta(seconds=1)).failed == 0
    assert status == "dead" and len(calls) == deferred.MAX_ATTEMPTS
    assert deferred.handle_due(db, bus, now=now + timedelta(days=1)).failed == 0


def test_a_failing_handler_of_a_delivery_ends_as_a_dead_letter_an_admin_retries(
        live: World) -> None:
    """A send that succeeds but whose ``MessageDelivered`` handler fails is counted as a
    failed attempt (rolled back, backed off), not retried for ever: after ``MAX_ATTEMPTS`` it
    is a dead letter on the outbox page, and the branch admin's retry, once the handler is
    mended, delivers it (the receiver answers the same idempotency key once)."""
    broken: list[int] = []
    mended: list[int] = []

    def receipt_breaks(session: Any, event: MessageDelivered) -> None:
        broken.append(event.outbox_id)
        raise RuntimeError("receipt bug")

    def receipt_works(session: Any, event: MessageDelivered) -> None:
        mended.append(event.outbox_id)

    db, clock = live.installation.bank.db, live.installation.clock
    with db.unit_of_work() as s:
        row = OutboxRow(destination="bureau", kind="admission_result",
                        idempotency_key="handler-breaks", created_at=clock.now(),
                        status="pending", attempts=0, next_attempt_at=clock.now(),
                        payload={"fixmedins_code": "P21020200001", "fixmedins_name": "药房"})
        s.add(row)
        s.commit()
        row_id = row.id
    dispatcher = Dispatcher(
        db=db, clock=clock, connector=live.dispatcher.connector,
        endpoints={"bureau": live.dispatcher.endpoints["bureau"]}, holder="handler-test",
        publish=MessageBus(handlers={MessageDelivered: [receipt_breaks]}, deferred={}).publish)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert dispatcher.dispatch_due() == 0
        with db.unit_of_work() as s:
            got = s.get(OutboxRow, row_id)
            assert got is not None and got.attempts == attempt and got.claimed_until is None
            assert got.last_error == f"{HANDLER_FAILED}RuntimeError: receipt bug"
            assert got.sent_at is None
            status, due = got.status, got.next_attempt_at
        if attempt < MAX_ATTEMPTS:
            assert status == "pending" and due > clock.now()
            assert dispatcher.dispatch_due() == 0 and len(broken) == attempt  # not yet due
            clock.set(due)
    assert status == "dead" and len(broken) == MAX_ATTEMPTS
    clock.advance(timedelta(days=1))
    assert dispatcher.dispatch_due() == 0 and len(broken) == MAX_ATTEMPTS  # stays dead

    admin = live.token("admin")
    listed = httpx.get(f"{live.bank_url}/api/outbox", params={"status": "dead"},
                       headers=admin).json()["items"]
    (shown,) = [i for i in listed if i["id"] == row_id]
    assert shown["last_error"].startswith(HANDLER_FAILED) and shown["attempts"] == MAX_ATTEMPTS
    dispatcher.publish = MessageBus(handlers={MessageDelivered: [receipt_works]},
                                    deferred={}).publish
    r = httpx.post(f"{live.bank_url}/api/outbox/{row_id}/retry", headers=admin,
                   json={"reason": "回执处理已修复 / receipt handler mended"})
    assert r.status_code == 200, r.text
    assert dispatcher.dispatch_due() == 1 and mended == [row_id]
    with db.unit_of_work() as s:
        got = s.get(OutboxRow, row_id)
        assert got is not None and got.status == "sent" and got.attempts == 1
    assert live.bureau_inbox.applied["handler-breaks"] == 1


def test_a_dead_deferred_event_is_on_the_outbox_page_and_an_admin_retries_it(
        live: World) -> None:
    """Monitoring after new data (a deferred handler) that fails ``MAX_ATTEMPTS`` times is not
    lost in ``flow_events``: the outbox page lists it as dead with its error, a retry needs a
    reason and is audited, and the mended handler then handles it once."""
    state = {"broken": True, "handled": 0}

    def watch(session: Any, event: ProfileChanged) -> None:
        if state["broken"]:
            raise ValueError("monitoring bug")
        state["handled"] += 1

    bus = MessageBus(handlers={}, deferred={ProfileChanged: [watch]})
    db, clock = live.installation.bank.db, live.installation.clock
    with db.unit_of_work() as s:
        bus.publish(s, [ProfileChanged(at=clock.now(), fixmedins_code="P21020200001",
                                       msgid="M-dead")])
        s.commit()
        (event_id,) = s.scalars(select(FlowEventRow.id).where(
            FlowEventRow.handler.endswith("watch")))
    for _ in range(deferred.MAX_ATTEMPTS):
        assert deferred.handle_due(db, bus, now=clock.now()).failed == 1
        with db.unit_of_work() as s:
            due = s.get(FlowEventRow, event_id).next_attempt_at  # type: ignore[union-attr]
        clock.set(max(due, clock.now()))

    admin = live.token("admin")
    page = httpx.get(f"{live.bank_url}/api/outbox/events", params={"status": "dead"},
                     headers=admin)
    assert page.status_code == 200, page.text
    (shown,) = [i for i in page.json()["items"] if i["id"] == event_id]
    assert (shown["status"], shown["status_zh"], shown["attempts"]) == (
        "dead", "已停止重试", deferred.MAX_ATTEMPTS)
    assert shown["last_error"] == "ValueError: monitoring bug"
    assert shown["event_type"] == "ProfileChanged" and shown["handler"].endswith("watch")
    assert event_id not in [i["id"] for i in httpx.get(
        f"{live.bank_url}/api/outbox/events", params={"status": "failed"},
        headers=admin).json()["items"]]
    bad = httpx.get(f"{live.bank_url}/api/outbox/events", params={"status": "lost"},
                    headers=admin)
    assert bad.status_code == 422
    cm = live.token("cm_dl001_1")
    assert httpx.get(f"{live.bank_url}/api/outbox/events", headers=cm).status_code == 403

    retry_url = f"{live.bank_url}/api/outbox/events/{event_id}/retry"
    blank = httpx.post(retry_url, headers=admin, json={"reason": "  "})
    assert blank.status_code == 422 and "reason" in blank.text
    with db.unit_of_work() as s:
        assert s.get(FlowEventRow, event_id).status == "dead"  # type: ignore[union-attr]
    state["broken"] = False
    r = httpx.post(retry_url, headers=admin, json={"reason": "监测程序已修复 / monitoring mended"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    assert deferred.handle_due(db, bus, now=clock.now()).handled == 1
    assert state["handled"] == 1
    again = httpx.post(retry_url, headers=admin, json={"reason": "再试一次 / once more"})
    assert again.status_code == 409  # handled: nothing to retry
    with db.unit_of_work() as s:
        (audited,) = s.scalars(select(AuditRow).where(
            AuditRow.action == "flow_event.retry", AuditRow.target == f"flow_event:{event_id}"))
        assert audited.actor == "admin" and audited.details["was"] == "dead"
        assert "修复" in audited.details["reason"]


def test_the_retention_job_prunes_old_job_runs_but_keeps_each_jobs_last_ones(
        installation: Installation) -> None:
    """``job_runs`` older than ``job_runs_keep_days`` go with the weekly retention job; each
    job's last run of each outcome stays whatever its age (the schedule counts from them)."""
    db, clock = installation.bank.db, installation.clock
    start = clock.now()

    def run(job: str, days_ago: int, outcome: str = "ok") -> None:
        at = start - timedelta(days=days_ago)
        leases.record_run(db, job=job, holder="h", started_at=at, finished_at=at,
                          outcome=outcome, counts={}, error=None)

    for days_ago in range(200, 0, -10):  # every 10 days for 200 days
        run("sla_sweep", days_ago)
    run("sla_sweep", 150, "failed")  # its only failure: old, but its last
    run("monitoring", 120)  # a rare job, run once long ago
    settings = installation.settings.model_copy(update={"job_runs_keep_days": 90})
    (job,) = [j for j in standard_jobs(db=db, bus=installation.bank.bus, dispatcher=None,
                                       settings=settings) if j.name == "retention"]

    def left() -> dict[str, list[int]]:
        with db.unit_of_work() as s:
            return {name: sorted((start - r.started_at).days for r in s.scalars(
                select(JobRunRow).where(JobRunRow.job == name))) for name in
                ("sla_sweep", "monitoring")}

    counts = job.run(clock.now(), threading.Event())
    assert counts["job_runs"] == 11  # 200 .. 100 days ago: 11 runs
    assert left() == {"sla_sweep": [10, 20, 30, 40, 50, 60, 70, 80, 90, 150],
                      "monitoring": [120]}
    assert job.run(clock.now(), threading.Event())["job_runs"] == 0  # nothing more to do
    clock.advance(timedelta(days=35))  # five weeks on: the runs of 60 .. 90 days ago are old
    assert job.run(clock.now(), threading.Event())["job_runs"] == 4
    assert left() == {"sla_sweep": [10, 20, 30, 40, 50, 150], "monitoring": [120]}
    short = settings.model_copy(update={"job_runs_keep_days": 7})
    (job,) = [j for j in standard_jobs(db=db, bus=installation.bank.bus, dispatcher=None,
                                       settings=short) if j.name == "retention"]
    assert job.run(clock.now(), threading.Event())["job_runs"] == 4
    assert left() == {"sla_sweep": [10, 150], "monitoring": [120]}  # the last ok, failed
    with db.unit_of_work() as s:
        audited = [a.details["deleted"] for a in s.scalars(select(AuditRow).where(
            AuditRow.action == "retention.job_runs").order_by(AuditRow.id))]
    assert audited == [11, 4, 4]


def test_a_stop_finishes_the_send_in_progress_and_releases_the_rest(live: World) -> None:
    stop = threading.Event()

    def first_message_stops(infno: str, data: dict[str, Any]) -> dict[str, Any]:
        stop.set()  # SIGTERM arrives while the first message is being sent
        return {"ok": True}

    app_, inbox = receiving_app(
        title="bureau", path="/in", keyring=keyring(live.installation.settings.keys_dir,
                                                    "bureau"),
        clock=live.installation.clock, area="210200", on_message=first_message_stops)
    db = live.installation.bank.db
    now = live.installation.clock.now()
    with db.unit_of_work() as s:
        for n in range(3):
            s.add(OutboxRow(destination="bureau", kind="admission_result",
                            idempotency_key=f"stop-{n}", created_at=now, status="pending",
                            attempts=0, next_attempt_at=now,
                            payload={"fixmedins_code": "P21020200001", "fixmedins_name": "药房"}))
        s.commit()
    with ServerThread(app_) as server:
        live.dispatcher.endpoints["bureau"] = Endpoint(server.url + "/in", "bureau")
        assert live.dispatcher.dispatch_due(stop=stop) == 1
        with db.unit_of_work() as s:
            rows = s.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
            assert [r.status for r in rows] == ["sent", "pending", "pending"]
            assert all(r.claimed_until is None for r in rows)  # the rest free at once
        assert live.dispatcher.dispatch_due() == 2
    assert sorted(inbox.deliveries.items()) == [(f"stop-{n}", 1) for n in range(3)]


def test_jobs_list_shows_each_jobs_schedule_next_due_time_and_runs(
        installation: Installation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAODAI_DATABASE_URL", installation.settings.database_url)
    monkeypatch.setenv("YIBAODAI_DEMO_MODE", "1")  # the fixtures' installations are demo ones
    monkeypatch.setenv("YIBAODAI_VAR_DIR", str(installation.settings.var_dir))
    ran = CliRunner().invoke(app, ["jobs", "run", "sla_sweep"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["counts"] == {"penalties": 0, "reminders": 0, "escalations": 0}
    result = CliRunner().invoke(app, ["jobs", "list", "--json"])
    assert result.exit_code == 0, result.output
    jobs = {j["job"]: j for j in json.loads(result.stdout)}
    assert set(jobs) == {"deferred_events", "sla_sweep", "warning_escalation", "monitoring",
                         "retention", "outbox"}
    sweep = jobs["sla_sweep"]
    assert [r["outcome"] for r in sweep["recent_runs"]] == ["ok"]
    started = datetime.fromisoformat(sweep["recent_runs"][0]["started_at"])
    assert datetime.fromisoformat(sweep["next_due"]) == started + timedelta(seconds=300)
    assert jobs["outbox"]["next_due"] is None  # nothing queued
    refused = CliRunner().invoke(app, ["jobs", "run", "outbox"])  # no receiver URLs set
    assert refused.exit_code == 1 and "YIBAODAI_BUREAU_URL" in refused.stdout

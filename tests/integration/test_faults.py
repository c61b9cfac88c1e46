"""Faults lose nothing and duplicate nothing: a worker killed with SIGKILL in the middle of a
send, PostgreSQL restarted in the middle of an ingestion batch, both receivers down for a
simulated day, the same bureau message delivered 100 times. Real processes (``yibaodai
serve``, ``yibaodai worker``), real HTTP simulators, PostgreSQL; each test ends with the
operator's ``yibaodai reconcile --json`` saying ok. (Two workers at once:
``test_service_on_its_own.py``, also reconciled.)"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import PG_URL, Installation
from tests.support import private_pg
from tests.support.processes import BankProcess, free_port, wait_for
from tests.support.receivers import Receivers, reconcile
from tests.support.receivers import receivers as receivers  # the fixture
from yibaodai.bootstrap import ensure_keys, keyring
from yibaodai.clock import SystemClock
from yibaodai.db.models import (
    AuditRow,
    CaseRow,
    DecisionRow,
    InstitutionEventRow,
    OutboxRow,
    RawMessageRow,
    SettlementFactRow,
    SubBranchRow,
)
from yibaodai.db.session import Database
from yibaodai.outbound.outbox import BUREAU, HEAD_OFFICE, enqueue
from yibaodai.runtime import build_worker
from yibaodai.settings import Settings
from yibaodai.sim.bulk import daily_rows
from yibaodai.sim.bureau import BureauPusher
from yibaodai.sim.city import SyntheticInstitution, generate_city
from yibaodai.sim.peer import SendingClient
from yibaodai.sim.server import ServerThread
from yibaodai.worker.dispatcher import MAX_ATTEMPTS

pytestmark = pytest.mark.skipif(not PG_URL,
                                reason="needs PostgreSQL (YIBAODAI_TEST_POSTGRES_URL)")
ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
RETRY_LATER = 1901


def _queue(db: Database, *, bureau: int, head_office: int, prefix: str,
           now: datetime | None = None) -> list[str]:
    """Outbox rows as the deciding and confirming transactions write them (a whitelist entry
    for a confirmed case of its own, which its delivery marks reported); their keys."""
    now = now or SystemClock().now()
    keys = []
    with db.unit_of_work() as s:
        sub_branch = s.scalars(select(SubBranchRow.code).order_by(SubBranchRow.code)).first()
        assert sub_branch is not None
        for n in range(bureau + head_office):
            payload: dict[str, Any] = {"fixmedins_code": "P21020200001",
                                       "fixmedins_name": "测试药房", "n": n}
            destination, kind = BUREAU, "admission_result"
            if n >= bureau:
                destination, kind = HEAD_OFFICE, "whitelist_entry"
                payload |= {"case_id": _confirmed_case(s, sub_branch, now),
                            "credit_limit": "300000.00"}
            key = f"{prefix}-{destination}-{n:03d}"
            enqueue(s, destination=destination, kind=kind, idempotency_key=key, now=now,
                    payload=payload)
            keys.append(key)
        s.commit()
    return keys


def _confirmed_case(s: Session, sub_branch: str, now: datetime) -> int:
    decision = DecisionRow(fixmedins_code="P21020200001", decided_at=now, trigger="test",
                           result="admitted", credit_limit=Decimal("300000.00"), reasons=[],
                           inputs={}, rule_version="test", content_hash="0" * 64)
    s.add(decision)
    s.flush()
    case = CaseRow(fixmedins_code="P21020200001", decision_id=decision.id,
                   sub_branch_code=sub_branch, state="confirmed",
                   credit_limit=Decimal("300000.00"), assigned_at=now,
                   claim_deadline=now + timedelta(days=2), confirmed_at=now)
    s.add(case)
    s.flush()
    return case.id


def _count(db: Database, query: Any) -> int:
    with db.unit_of_work() as s:
        return int(s.scalar(query) or 0)


def _sent(db: Database) -> int:
    return _count(db, select(func.count()).select_from(OutboxRow).where(
        OutboxRow.status == "sent"))


def _applied(r: Receivers) -> dict[str, int]:
    return {**r.bureau_inbox.applied, **r.head_office_inbox.applied}


def _deliveries(r: Receivers) -> dict[str, int]:
    return {**r.bureau_inbox.deliveries, **r.head_office_inbox.deliveries}


def _assert_reconciled(env: dict[str, str]) -> dict[str, Any]:
    code, report = reconcile(env)
    assert (code, report["ok"]) == (0, True), report
    return report


# -- kill -9 in the middle of a send -------------------------------------------------------

@ON_POSTGRESQL
def test_a_worker_killed_in_the_middle_of_a_send_loses_nothing_and_its_successor_repeats_nothing(
        settings: Settings, db: Database, receivers: Receivers, tmp_path: Path) -> None:
    env = receivers.environment(settings, YIBAODAI_OUTBOX_SEND_TIMEOUT_SECONDS="2",
                                YIBAODAI_OUTBOX_CLAIM_SECONDS="3",
                                YIBAODAI_DISPATCH_INTERVAL_SECONDS="0.2")
    keys = _queue(db, bureau=8, head_office=4, prefix="kill")
    receivers.bureau_inbox.delay = receivers.head_office_inbox.delay = 0.4  # slow receivers
    with BankProcess(["worker"], env=env, log=tmp_path / "first.log") as first:
        wait_for(lambda: len(_applied(receivers)) >= 3 and (
            receivers.bureau_inbox.in_flight + receivers.head_office_inbox.in_flight) > 0,
                 timeout=90, what="the first worker to be in the middle of a send", every=0.01)
        assert first.process is not None
        first.process.kill()  # SIGKILL: no clean-up, its claims are left to expire
        first.process.wait()
    wait_for(lambda: receivers.bureau_inbox.in_flight + receivers.head_office_inbox.in_flight
             == 0, timeout=10, what="the cut-off send to finish at the receiver")
    cut_off = _sent(db)
    assert cut_off < len(keys)
    receivers.bureau_inbox.delay = receivers.head_office_inbox.delay = 0.05
    with BankProcess(["worker"], env=env, log=tmp_path / "second.log") as second:
        wait_for(lambda: _sent(db) == len(keys), timeout=90, what="every message sent")
        assert second.terminate() == 0
    applied, deliveries = _applied(receivers), _deliveries(receivers)
    assert sorted(applied) == sorted(keys) and set(applied.values()) == {1}
    resent = sorted(k for k, n in deliveries.items() if n > 1)
    assert resent, "the send cut off by the kill was never made again"
    report = _assert_reconciled(env)
    assert sum(r["redelivered"] for r in report["receivers"].values()) == len(resent)
    assert sum(r["duplicates"] for r in report["receivers"].values()) == 0


# -- PostgreSQL restarted in the middle of an ingestion batch -----------------------------

@pytest.fixture
def private_cluster() -> Iterator[private_pg.PrivateCluster]:
    if not private_pg.available():
        pytest.skip("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    cluster = private_pg.PrivateCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def _post_until_accepted(client: SendingClient, envelope: dict[str, Any],
                         refusals: list[int]) -> dict[str, Any]:
    """Post one sealed message as the bureau does: the same envelope again after a refusal
    to try later or a failed connection, until it is accepted; refusals are counted."""
    for _ in range(400):
        try:
            answer = client.post(envelope)
        except httpx.HTTPError as exc:
            raise AssertionError(f"the bank answered HTTP failure, not an envelope: {exc}") \
                from exc
        if answer.infcode == 0:
            return dict(answer.output)
        assert answer.infcode == RETRY_LATER, answer.err_msg
        refusals.append(answer.infcode)
        threading.Event().wait(0.1)
    raise AssertionError("never accepted")


def test_pushes_refused_while_postgresql_restarts_are_resent_and_stored_exactly_once(
        private_cluster: private_pg.PrivateCluster, tmp_path: Path) -> None:
    settings = Settings(database_url=private_cluster.url, var_dir=tmp_path / "var",
                        demo_mode=True)
    ensure_keys(settings.keys_dir)
    running = Receivers.start(settings.keys_dir, SystemClock())
    port = free_port()
    bank_url = f"http://127.0.0.1:{port}"
    env = running.environment(settings)
    day = SystemClock().today() - timedelta(days=1)
    inst = generate_city(seed=5, institutions=3, as_of=day)[0]
    batches = [daily_rows(inst.fixmedins_code, 52 * 30, day)[i:i + 52]
               for i in range(0, 52 * 30, 52)]  # 30 messages, one day each
    try:
        with BankProcess(["serve", "--port", str(port)], env=env,
                         log=tmp_path / "serve.log") as bank:
            bank.wait_healthy(f"{bank_url}/api/health")
            pusher = _bureau(bank_url, settings, inst, day)
            client = pusher.client
            refusals: list[int] = []
            envelopes = [client.seal(infno="8301", fixmedins_code=inst.fixmedins_code,
                                     fixmedins_name=inst.fixmedins_name, rows=rows)
                         for rows in batches]
            outage = threading.Thread(target=_restart_when_refused, daemon=True,
                                      args=(private_cluster, refusals))
            answers = []
            for n, envelope in enumerate(envelopes):
                if n == 10:  # the database goes away in the middle of the batch
                    outage.start()
                answers.append(_post_until_accepted(client, envelope, refusals))
            outage.join(timeout=60)
            pusher.close()
            assert len(refusals) >= 3  # pushes were refused while it was away...
            assert [a["accepted_rows"] for a in answers] == [52] * 30  # ...then all taken
            wait_for(lambda: _everything_answered(settings), timeout=60,
                     what="the decisions' answers delivered", every=0.2)
            assert bank.terminate() == 0
        db = Database(settings.database_url)
        msgids = [e["msgid"] for e in envelopes]
        with db.unit_of_work() as s:
            per_msgid = dict(s.execute(select(SettlementFactRow.source_msgid, func.count())
                                       .group_by(SettlementFactRow.source_msgid)).all())
            archived = s.scalar(select(func.count()).select_from(RawMessageRow).where(
                RawMessageRow.infno == "8301"))
        db.dispose()
        assert [per_msgid.get(m) for m in msgids] == [52] * 30 and archived == 30
        report = _assert_reconciled(env)
        assert report["pushes"]["8301"] | {"faults": []} == {
            "archived": 30, "accepted": 30, "refused": 0, "unanswered": 0, "stored": 30,
            "superseded": 0, "missing": 0, "duplicated": 0, "rows_expected": 52 * 30,
            "rows_stored": 52 * 30, "faults": [], "ok": True}
    finally:
        running.stop()


def _bureau(bank_url: str, settings: Settings, inst: SyntheticInstitution,
            day: date) -> BureauPusher:
    """The bureau simulator's sender, with ``inst`` authorized and its profile pushed."""
    pusher = BureauPusher(bank_url=bank_url, keyring=keyring(settings.keys_dir, "bureau"),
                          clock=SystemClock(), seed=5)
    for answer in (pusher.authorize(inst, on=day), pusher.push_profile(inst)):
        assert answer.infcode == 0, answer.err_msg
    return pusher


def _restart_when_refused(cluster: private_pg.PrivateCluster, refusals: list[int]) -> None:
    """Stop PostgreSQL, keep it down until the bureau has been refused a few times, start
    it again."""
    cluster.stop()
    wait_for(lambda: len(refusals) >= 3, timeout=60, what="pushes refused during the outage")
    cluster.start()


def _everything_answered(settings: Settings) -> bool:
    db = Database(settings.database_url)
    try:
        with db.unit_of_work() as s:
            return not s.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.status != "sent"))
    finally:
        db.dispose()


# -- both receivers down for a simulated day ------------------------------------------------

@ON_POSTGRESQL
def test_receivers_down_for_a_day_get_everything_once_after_a_platform_retry_of_the_dead(
        installation: Installation) -> None:
    clock, settings, db = installation.clock, installation.settings, installation.bank.db
    running = Receivers.start(settings.keys_dir, clock)
    worker = build_worker(installation.bank, bureau_url=running.bureau_url,
                          head_office_url=running.head_office_url, holder="test-worker")
    assert worker.dispatcher is not None
    dispatch: Callable[[], int] = worker.dispatcher.dispatch_due
    try:
        early = _queue(db, bureau=6, head_office=3, prefix="early", now=clock.now())
        running.down()
        back_at = clock.now() + timedelta(days=1)
        late: list[str] = []
        while clock.now() < back_at:  # the day passes, five minutes at a time
            dispatch()
            if not late and clock.now() >= back_at - timedelta(hours=1):
                late = _queue(db, bureau=2, head_office=1, prefix="late", now=clock.now())
            clock.advance(timedelta(minutes=5))
        rows = _rows(db)
        assert all(r.attempts == MAX_ATTEMPTS for r in rows if r.status == "dead")
        assert {r.idempotency_key for r in rows if r.status == "dead"} == set(early)
        assert {r.status for r in rows if r.idempotency_key in late} == {"pending"}
        running.up()
        env = running.environment(settings)
        code, before = reconcile(env)  # dead letters: not ok until someone acts
        assert code == 1 and before["receivers"]["bureau"]["dead"] == 6
        for _ in range(24):  # the late ones go on their own as their retries come due
            dispatch()
            clock.advance(timedelta(minutes=5))
        assert {r.status for r in _rows(db) if r.idempotency_key in late} == {"sent"}
        with ServerThread(installation.bank.app) as platform:
            _retry_dead_as_the_branch_admin(installation, platform.url)
        dispatch()
        assert {r.status for r in _rows(db)} == {"sent"}
        applied, deliveries = _applied(running), _deliveries(running)
        assert sorted(applied) == sorted(early + late) and set(applied.values()) == {1}
        assert set(deliveries.values()) == {1}  # nothing got through while they were down
        _assert_reconciled(env)
    finally:
        worker.close()
        running.stop()


def _rows(db: Database) -> list[OutboxRow]:
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        s.expunge_all()
        return rows


def _retry_dead_as_the_branch_admin(installation: Installation, url: str) -> None:
    admin = installation.accounts["admin"]
    token = httpx.post(f"{url}/api/auth/token", json={
        "username": admin.username, "password": admin.password}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    dead = httpx.get(f"{url}/api/outbox", params={"status": "dead", "page_size": 100},
                     headers=headers).json()["items"]
    assert len(dead) == 9
    unexplained = httpx.post(f"{url}/api/outbox/{dead[0]['id']}/retry", json={"reason": " "},
                             headers=headers)
    assert unexplained.status_code == 422  # a reason is required
    for item in dead:
        r = httpx.post(f"{url}/api/outbox/{item['id']}/retry", headers=headers,
                       json={"reason": "医保局与总行接口已恢复 / receivers back after the outage"})
        assert r.status_code == 200, r.text
    with installation.bank.db.unit_of_work() as s:
        audited = [(a.actor, a.details["was"], a.details["reason"]) for a in s.scalars(
            select(AuditRow).where(AuditRow.action == "outbox.retry"))]
    assert len(audited) == 9
    assert {(actor, was) for actor, was, _ in audited} == {("admin", "dead")}
    assert all("恢复" in reason for *_, reason in audited)


# -- the same bureau message 100 times -----------------------------------------------------

@ON_POSTGRESQL
def test_the_same_bureau_message_delivered_100_times_is_stored_once_and_answered_alike(
        settings: Settings, db: Database, receivers: Receivers, tmp_path: Path) -> None:
    port = free_port()
    bank_url = f"http://127.0.0.1:{port}"
    env = receivers.environment(settings)
    day = SystemClock().today() - timedelta(days=1)
    inst = generate_city(seed=8, institutions=3, as_of=day)[0]
    with BankProcess(["serve", "--port", str(port)], env=env,
                     log=tmp_path / "serve.log") as bank:
        bank.wait_healthy(f"{bank_url}/api/health")
        pusher = _bureau(bank_url, settings, inst, day)
        client = pusher.client
        settlement = client.seal(infno="8301", fixmedins_code=inst.fixmedins_code,
                                 fixmedins_name=inst.fixmedins_name,
                                 rows=daily_rows(inst.fixmedins_code, 52 * 7, day))
        event = client.seal(infno="8202", fixmedins_code=inst.fixmedins_code,
                            fixmedins_name=inst.fixmedins_name, rows=[{
                                "fixmedins_code": inst.fixmedins_code, "evt_type": "penalty",
                                "evt_date": day.isoformat(), "evt_desc": "违规扣款",
                                "evt_amt": "1200.00"}])
        with ThreadPoolExecutor(max_workers=4) as pool:  # some copies arrive at once
            answers = {name: list(pool.map(lambda _, e=envelope: _raw_post(bank_url, e),
                                           range(100)))
                       for name, envelope in (("8301", settlement), ("8202", event))}
        pusher.close()
        for name, copies in answers.items():
            assert copies[0]["infcode"] == 0, copies[0]["err_msg"]
            assert all(c == copies[0] for c in copies), f"{name}: answers differ"
        wait_for(lambda: _everything_answered(settings), timeout=60,
                 what="the decision's answer delivered", every=0.2)
        assert bank.terminate() == 0
    with db.unit_of_work() as s:
        events = s.scalar(select(func.count()).select_from(InstitutionEventRow).where(
            InstitutionEventRow.source_msgid == event["msgid"]))
        facts = s.scalar(select(func.count()).select_from(SettlementFactRow).where(
            SettlementFactRow.source_msgid == settlement["msgid"]))
        archived = s.scalar(select(func.count()).select_from(RawMessageRow).where(
            RawMessageRow.msgid.in_([settlement["msgid"], event["msgid"]])))
        decisions = s.scalar(select(func.count()).select_from(DecisionRow).where(
            DecisionRow.trigger.like("infno-8301%")))
    assert (events, facts, archived, decisions) == (1, 52 * 7, 2, 1)
    decision = answers["8301"][0]["output"].get("decision")
    assert decision is not None
    report = _assert_reconciled(env)
    assert report["pushes"]["8202"]["stored"] == report["pushes"]["8301"]["stored"] == 1


def _raw_post(bank_url: str, envelope: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{bank_url}/fsi/api/bank/callService", json=envelope, timeout=60)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


# -- a pooled connection the server ended ---------------------------------------------------


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
def test_a_pooled_connection_the_server_ended_is_replaced_at_checkout() -> None:
    """``db.session`` finds a connection the server terminated without a round trip (its
    socket is readable) and the pool opens a new one: the next unit of work just works."""
    import psycopg
    from sqlalchemy import text

    assert PG_URL
    db = Database(PG_URL)
    admin = psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"),
                            autocommit=True)
    try:
        with db.unit_of_work() as s:
            first = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        wait_for(lambda: admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                       (first,)).fetchone() == (0,), timeout=10,
                 what="the terminated backend to end")
        with db.unit_of_work() as s:  # without the check this raises OperationalError
            second = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        admin.close()
        db.dispose()

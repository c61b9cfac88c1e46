"""The bank runs on its own: ``yibaodai serve`` and ``yibaodai worker`` as real processes on a
fresh database, on the system clock, with the bureau and head-office simulators as real HTTP
servers. No demo code: the test plays the bureau and the staff, nothing else."""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import PG_URL
from tests.support.flow import likely_admitted
from tests.support.processes import BankProcess, free_port, wait_for
from tests.support.receivers import DISPATCH_INTERVAL, Receivers, reconcile
from tests.support.receivers import receivers as receivers  # the fixture
from yibaodai.bootstrap import keyring, seed_demo_users
from yibaodai.clock import SystemClock
from yibaodai.db.models import JobRunRow, OutboxRow
from yibaodai.db.session import Database
from yibaodai.settings import Settings
from yibaodai.sim.bureau import BureauPusher
from yibaodai.sim.city import SyntheticInstitution, generate_city
from yibaodai.sim.peer import Inbox

#: What one delivery may take on top of the interval on a busy 2-core machine.
SEND_ALLOWANCE = 1.5
CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)
SCHEDULED_JOBS = ("sla_sweep", "warning_escalation", "monitoring", "retention")


def _staff(db: Database) -> dict[str, str]:
    """Staff accounts (the bank's bootstrap accounts: a manager and two client managers per
    sub-branch); username -> password."""
    with db.unit_of_work() as session:
        accounts = seed_demo_users(session, seed=1)
        session.commit()
    return {a.username: a.password for a in accounts}


def _answers_for(inbox: Inbox, code: str) -> list[dict[str, object]]:
    with inbox.lock:
        return [m["input"]["data"][0] for m in inbox.messages.values()
                if m["input"]["data"][0].get("fixmedins_code") == code]


def _arrival(inbox: Inbox, code: str, *, what: str) -> dict[str, object]:
    """The one message about ``code`` the receiver got, once it has arrived; it must arrive
    within one dispatcher interval (plus the send)."""
    took = wait_for(lambda: bool(_answers_for(inbox, code)), timeout=30, what=what)
    assert took < DISPATCH_INTERVAL + SEND_ALLOWANCE, f"{what}: {took:.2f} s"
    (message,) = _answers_for(inbox, code)
    return message


def _onboard(pusher: BureauPusher, inst: SyntheticInstitution, today: date) -> None:
    assert pusher.authorize(inst, on=today).infcode == 0
    assert pusher.push_profile(inst).infcode == 0
    for answer in pusher.push_settlements(inst, start=date(today.year - 2, today.month, 1),
                                          end=today.replace(day=1) - timedelta(days=1)):
        assert answer.infcode == 0, answer.err_msg


def test_serve_on_a_fresh_database_answers_the_bureau_and_reports_to_head_office_on_its_own(
        settings: Settings, db: Database, receivers: Receivers, tmp_path: Path) -> None:
    passwords = _staff(db)
    port = free_port()
    bank_url = f"http://127.0.0.1:{port}"
    env = receivers.environment(settings)
    today = SystemClock().today()
    candidates = likely_admitted(generate_city(seed=11, institutions=60,
                                               as_of=today - timedelta(days=1)))[:5]
    with BankProcess(["serve", "--port", str(port)], env=env, log=tmp_path / "serve.log") as bank:
        bank.wait_healthy(f"{bank_url}/api/health")
        pusher = BureauPusher(bank_url=bank_url, keyring=keyring(settings.keys_dir, "bureau"),
                              clock=SystemClock(), seed=11)
        admitted = None
        for inst in candidates:  # the first the whitelist rule admits today
            _onboard(pusher, inst, today)
            answer = _arrival(receivers.bureau_inbox, inst.fixmedins_code,
                              what="the decision's answer at the bureau")
            if answer["result"] == "admitted":
                admitted = (inst, answer)
                break
        pusher.close()
        assert admitted is not None, "none of the likely candidates was admitted"
        inst, answer = admitted
        assert isinstance(answer["sub_branch"], dict)
        sub = str(answer["sub_branch"]["code"])

        def api(user: str, method: str, path: str, **kw: object) -> httpx.Response:
            token = httpx.post(f"{bank_url}/api/auth/token", json={
                "username": user, "password": passwords[user]}).json()["token"]
            return httpx.request(method, f"{bank_url}{path}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"},
                                 **kw)  # type: ignore[arg-type]

        (case,) = api("gm", "GET", "/api/cases").json()["items"]
        cm, mgr = f"cm_{sub.lower()}_1", f"mgr_{sub.lower()}"
        assert api(cm, "POST", f"/api/cases/{case['id']}/claim").status_code == 200
        assert api(cm, "POST", f"/api/cases/{case['id']}/verification",
                   json={"checklist": CHECKLIST, "note": "现场核实"}).status_code == 200
        assert api(mgr, "POST", f"/api/cases/{case['id']}/confirmation").status_code == 200
        entry = _arrival(receivers.head_office_inbox, inst.fixmedins_code,
                         what="the whitelist entry at head office")
        assert entry["case_id"] == case["id"]
        wait_for(lambda: api("gm", "GET", f"/api/cases/{case['id']}").json()["case"]["state"]
                 == "reported", timeout=10, what="the case to be reported", every=0.2)
        assert bank.terminate() == 0
        assert bank.logged("worker.stopped")
    with db.unit_of_work() as s:  # the worker recorded its runs
        delivered = sum(r.counts.get("delivered", 0) for r in s.scalars(
            select(JobRunRow).where(JobRunRow.job == "outbox")))
        assert delivered == len(candidates[:candidates.index(inst) + 1]) + 1
        assert {j for j in s.scalars(select(JobRunRow.job).where(
            JobRunRow.outcome == "ok"))} >= set(SCHEDULED_JOBS)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (YIBAODAI_TEST_POSTGRES_URL)")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_deliver_each_of_500_messages_exactly_once(
        settings: Settings, db: Database, receivers: Receivers, tmp_path: Path) -> None:
    env = receivers.environment(settings)
    workers = [BankProcess(["worker"], env=env, log=tmp_path / f"worker{n}.log")
               for n in (1, 2)]
    with ExitStack() as stack:
        for worker in workers:
            stack.enter_context(worker)
        for worker in workers:
            wait_for(partial(worker.logged, "worker.started"), timeout=90,
                     what="both workers to start", every=0.2)
        now = SystemClock().now()
        keys = [f"bulk-{n:03d}" for n in range(500)]
        with db.unit_of_work() as s:
            s.add_all(OutboxRow(destination="bureau", kind="admission_result",
                                idempotency_key=key, created_at=now, status="pending",
                                attempts=0, next_attempt_at=now,
                                payload={"fixmedins_code": "P21020200001",
                                         "fixmedins_name": "测试药房", "n": key})
                      for key in keys)
            s.commit()

        def all_sent() -> bool:
            with db.unit_of_work() as s:
                return s.scalar(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.status == "sent")) == len(keys)

        wait_for(all_sent, timeout=180, what="500 deliveries", every=0.5)
        assert [w.terminate() for w in workers] == [0, 0]
    assert sorted(receivers.bureau_inbox.deliveries) == keys
    assert set(receivers.bureau_inbox.deliveries.values()) == {1}  # no message twice
    code, report = reconcile(env)  # and the operator's reconciliation says the same
    assert (code, report["ok"]) == (0, True), report
    assert report["receivers"]["bureau"] | {"faults": None} == {
        "queued": 500, "sent": 500, "pending": 0, "dead": 0, "received": 500,
        "deliveries": 500, "redelivered": 0, "missing": 0, "duplicates": 0, "unexpected": 0,
        "faults": None, "ok": True}
    with db.unit_of_work() as s:
        senders = Counter(s.scalars(select(OutboxRow.claimed_by)))
        runs = Counter(s.scalars(select(JobRunRow.job).where(JobRunRow.job.in_(SCHEDULED_JOBS))))
    assert len(senders) == 2, senders  # both workers took part
    assert runs == dict.fromkeys(SCHEDULED_JOBS, 1)  # and never ran a job twice

"""Soak: the bank as it runs, under a steady mix of the day's work, for N minutes.

``yibaodai serve`` (with its worker) as a real process on a scratch PostgreSQL database, the
bureau and head-office simulators as real HTTP servers, on the system clock. Setup (not
measured): ``--institutions`` institutions authorized, profiled and given 24 months of
history. Then, paced open-loop for ``--minutes`` (default 10):

* **pushes**: one 8301 daily summary of one institution (the gateway decides in the same
  transaction; the worker delivers the answer to the bureau simulator);
* **applications**: a new institution authorized, profiled and given its 24 months of history
  (the gateway makes its first decision; the worker answers the bureau);
* **page views**: the report platform's API as staff use it (dashboard, case list, warnings,
  notifications, an institution's settlement), as the branch manager. The worker's scheduled
  jobs run beside all this as in production.

The rate is ``--factor`` (5) times the pilot city's day, spread over a working day of
``--day-hours`` (8): ``--pushes-per-day`` (3,000: every designated institution of the pilot
city pushing its daily summary), ``--applications-per-day`` (200: the launch month's busiest
days) and ``--views-per-day`` (10,000: 17 sub-branches' staff at about 100 page views each).
These volumes are this benchmark's assumptions, not figures from the pilot's records.
Errors: any push not answered ``infcode`` 0, any page view not
200, any transport error, any failed worker job run, any outbox row not sent at the end.
Memory: the resident set of the ``serve`` process, sampled every 5 s; the mean of the first
minute against the last.

    YIBAODAI_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.soak --minutes 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import _free_port, machine_facts, pg_url_from_env, scratch_database

PAGES = ("/api/dashboard", "/api/cases", "/api/warnings", "/api/me/notifications")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Paced:
    """Calls ``work`` every ``1 / rate`` seconds from its own thread until ``stop``."""

    def __init__(self, rate: float, work: Any, stop: threading.Event) -> None:
        self.rate, self.work, self.stop = rate, work, stop
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.late = 0

    def _run(self) -> None:
        interval, due = 1.0 / self.rate, time.monotonic()
        while not self.stop.is_set():
            self.work()
            due += interval
            wait = due - time.monotonic()
            if wait < 0:
                self.late += 1
                due = time.monotonic()
            elif self.stop.wait(wait):
                break


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--factor", type=float, default=5)
    ap.add_argument("--pushes-per-day", type=int, default=3000)
    ap.add_argument("--views-per-day", type=int, default=10000)
    ap.add_argument("--applications-per-day", type=int, default=200)
    ap.add_argument("--day-hours", type=float, default=8)
    ap.add_argument("--institutions", type=int, default=12)
    args = ap.parse_args()
    push_rate = args.factor * args.pushes_per_day / (args.day_hours * 3600)
    view_rate = args.factor * args.views_per_day / (args.day_hours * 3600)
    args.apply_rate = args.factor * args.applications_per_day / (args.day_hours * 3600)
    pg = pg_url_from_env()
    facts = machine_facts(pg, packages=("fastapi", "sqlalchemy", "psycopg", "uvicorn"))
    with scratch_database(pg) as url, tempfile.TemporaryDirectory() as tmp:
        result = soak(url, Path(tmp), args, push_rate, view_rate)
    result["machine"] = facts
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if result["errors"]["total"]:
        raise SystemExit(1)


def soak(url: str, tmp: Path, args: argparse.Namespace, push_rate: float,
         view_rate: float) -> dict[str, Any]:
    from sqlalchemy import func, select

    from yibaodai.bootstrap import ensure_keys, keyring, open_database, seed_demo_users
    from yibaodai.clock import SystemClock
    from yibaodai.db.models import DecisionRow, JobRunRow, OutboxRow
    from yibaodai.runtime import prepare_database
    from yibaodai.settings import Settings
    from yibaodai.sim.bureau import ANSWER_PATH, BureauPusher, bureau_app
    from yibaodai.sim.city import generate_city
    from yibaodai.sim.headoffice import WHITELIST_PATH, head_office_app
    from yibaodai.sim.server import ServerThread

    settings = Settings(database_url=url, var_dir=tmp / "var", demo_mode=True)
    ensure_keys(settings.keys_dir)
    prepare_database(settings).dispose()
    db = open_database(settings)
    with db.unit_of_work() as s:
        accounts = {a.username: a.password for a in seed_demo_users(s, seed=1)}
        s.commit()
    clock = SystemClock()
    b_app, b_inbox = bureau_app(keyring=keyring(settings.keys_dir, "bureau"), clock=clock)
    h_app, _ = head_office_app(keyring=keyring(settings.keys_dir, "headoffice"), clock=clock)
    port = _free_port()
    bank_url = f"http://127.0.0.1:{port}"
    with ServerThread(b_app) as bureau, ServerThread(h_app) as head_office:
        env = {**os.environ, "YIBAODAI_DATABASE_URL": url,
               "YIBAODAI_VAR_DIR": str(settings.var_dir), "YIBAODAI_DEMO_MODE": "1",
               "YIBAODAI_BUREAU_URL": bureau.url + ANSWER_PATH,
               "YIBAODAI_HEAD_OFFICE_URL": head_office.url + WHITELIST_PATH,
               "YIBAODAI_DISPATCH_INTERVAL_SECONDS": "1"}
        log = (tmp / "serve.log").open("wb")
        serve = subprocess.Popen([str(Path(sys.executable).with_name("yibaodai")), "serve",
                                  "--port", str(port)], env=env, stdout=log, stderr=log)
        try:
            _wait_healthy(bank_url, serve)
            today = clock.today()
            applicants = int(args.apply_rate * args.minutes * 60) + 5
            everyone = generate_city(seed=21, institutions=(args.institutions + applicants) * 2,
                                     as_of=today - timedelta(days=1))
            city, waiting = everyone[:args.institutions], everyone[args.institutions:]
            pusher = BureauPusher(bank_url=bank_url,
                                  keyring=keyring(settings.keys_dir, "bureau"), clock=clock,
                                  seed=21)
            setup_started = time.monotonic()
            history_end = today.replace(day=1) - timedelta(days=1)

            def onboard(inst: Any) -> list[int]:
                """The infcodes that were not 0."""
                return [a.infcode for a in (
                    pusher.authorize(inst, on=today), pusher.push_profile(inst),
                    *pusher.push_settlements(inst, start=date(today.year - 2, today.month, 1),
                                             end=history_end)) if a.infcode != 0]

            for inst in city:
                if onboard(inst):
                    raise RuntimeError("a setup push was refused")
            setup_s = time.monotonic() - setup_started
            with db.unit_of_work() as s:
                decisions_before = s.scalar(select(func.count()).select_from(DecisionRow))
            token = httpx.post(f"{bank_url}/api/auth/token", json={
                "username": "gm", "password": accounts["gm"]}).json()["token"]
            staff = httpx.Client(base_url=bank_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
            errors: Counter[str] = Counter()
            done: Counter[str] = Counter()
            lock = threading.Lock()
            n = {"push": 0, "view": 0}

            def push() -> None:
                with lock:
                    k = n["push"]
                    n["push"] += 1
                inst = city[k % len(city)]
                # the days of this month so far, over and over: a resent day replaces its rows
                day = today.replace(day=1) + timedelta(days=(k // len(city)) % max(
                    1, (today - today.replace(day=1)).days))
                if day >= today:
                    day = history_end
                try:
                    answers = pusher.push_settlements(inst, start=day, end=day)
                    bad = [a for a in answers if a.infcode != 0]
                    with lock:
                        done["push"] += 1
                        if bad:
                            errors[f"push infcode {bad[0].infcode}"] += 1
                except httpx.HTTPError as exc:
                    with lock:
                        errors[f"push {type(exc).__name__}"] += 1

            def apply() -> None:
                with lock:
                    inst = waiting.pop(0) if waiting else None
                if inst is None:
                    return
                try:
                    refused = onboard(inst)
                    with lock:
                        done["application"] += 1
                        if refused:
                            errors[f"application infcode {refused[0]}"] += 1
                except httpx.HTTPError as exc:
                    with lock:
                        errors[f"application {type(exc).__name__}"] += 1

            def view() -> None:
                with lock:
                    k = n["view"]
                    n["view"] += 1
                path = PAGES[k % len(PAGES)]
                if k % 5 == 4:
                    path = f"/api/institutions/{city[k % len(city)].fixmedins_code}/settlement"
                try:
                    r = staff.get(path)
                    with lock:
                        done["view"] += 1
                        if r.status_code != 200:
                            errors[f"view {path.split('/')[2]} {r.status_code}"] += 1
                except httpx.HTTPError as exc:
                    with lock:
                        errors[f"view {type(exc).__name__}"] += 1

            stop = threading.Event()
            loads = [Paced(push_rate, push, stop), Paced(view_rate, view, stop),
                     Paced(args.apply_rate, apply, stop)]
            samples: list[tuple[float, int]] = []
            started = time.monotonic()
            for load in loads:
                load.thread.start()
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                samples.append((elapsed, rss_kib(serve.pid)))
                stop.wait(5)
            stop.set()
            for load in loads:
                load.thread.join(timeout=60)
            ran_s = time.monotonic() - started
            drained = _wait_drained(db, OutboxRow, timeout=60)
            staff.close()
            pusher.close()
        finally:
            serve.terminate()
            serve.wait(timeout=60)
            log.close()
        with db.unit_of_work() as s:
            decisions = s.scalar(select(func.count()).select_from(DecisionRow)) or 0
            failed_jobs = s.scalar(select(func.count()).select_from(JobRunRow).where(
                JobRunRow.outcome == "failed")) or 0
            delivered = sum(r.counts.get("delivered", 0) for r in s.scalars(
                select(JobRunRow).where(JobRunRow.job == "outbox")))
            jobs = Counter(s.scalars(select(JobRunRow.job)))
        db.dispose()
    if failed_jobs:
        errors["worker job failed"] += failed_jobs
    if not drained:
        errors["outbox not drained"] += 1
    first = [kib for t, kib in samples if t < 60]
    last = [kib for t, kib in samples if t >= ran_s - 60]
    return {
        "minutes": args.minutes, "factor": args.factor,
        "rates_per_s": {"pushes": round(push_rate, 3), "page_views": round(view_rate, 3),
                        "applications": round(args.apply_rate, 4)},
        "setup": {"institutions": len(city), "seconds": round(setup_s, 1)},
        "done": {"pushes": done["push"], "page_views": done["view"],
                 "applications": done["application"],
                 "decisions": decisions - (decisions_before or 0),
                 "outbox_delivered": delivered, "bureau_received": len(b_inbox.applied),
                 "job_runs": dict(jobs)},
        "late_ticks": {"pushes": loads[0].late, "page_views": loads[1].late,
                       "applications": loads[2].late},
        "errors": {"total": sum(errors.values()), **errors},
        "rss_mib": {"first_minute_mean": round(statistics.fmean(first) / 1024, 1),
                    "last_minute_mean": round(statistics.fmean(last) / 1024, 1),
                    "max": round(max(k for _, k in samples) / 1024, 1),
                    "samples": len(samples)},
    }


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("yibaodai serve exited")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("yibaodai serve did not answer")


def _wait_drained(db: Any, outbox: Any, *, timeout: float) -> bool:
    from sqlalchemy import func, select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.unit_of_work() as s:
            if not s.scalar(select(func.count()).select_from(outbox).where(
                    outbox.status != "sent")):
                return True
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    main()

"""The worker: runs whatever is due, on the injected clock.

``Worker.run_due()`` is one tick: each *queue* job (the outbox, deferred events) runs when it
has due work; each *scheduled* job runs when its schedule says so, under its lease, so several
workers never run it twice at once. Production loops on the system clock
(``run_forever``: a tick, then a short wait); the demo and the tests move a simulated clock and
call ``run_due()``. Every run of a scheduled job is recorded in ``job_runs`` (job, holder,
started, finished, outcome, counts, error); queue runs are recorded when they did something or
failed, so an idle worker does not fill the table. A failing job is logged, recorded and
retried after ``RETRY_AFTER``; it never stops the others.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from yibaodai.clock import Clock
from yibaodai.db.session import Database
from yibaodai.errors import NotFound
from yibaodai.worker import leases
from yibaodai.worker.dispatcher import Dispatcher
from yibaodai.worker.schedules import Schedule

log = structlog.get_logger(__name__)

#: A failed scheduled job is tried again after this long (whatever its schedule).
RETRY_AFTER = timedelta(minutes=5)

#: A job's work at ``now``: returns its counts; ``stop`` asks it to finish early.
JobRun = Callable[[datetime, threading.Event], dict[str, int]]


@dataclass(frozen=True)
class Job:
    """``schedule`` for a scheduled job; a queue job has none and a ``pending`` function
    instead: when its earliest work is due (None when there is none)."""

    name: str
    run: JobRun
    description: str
    schedule: Schedule | None = None
    pending: Callable[[], datetime | None] | None = None


@dataclass(frozen=True)
class Outcome:
    job: str
    started_at: datetime
    outcome: str
    counts: dict[str, int]
    error: str | None = None


def default_holder() -> str:
    """A name unique to this worker: host, process, and a random part (threads)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, *, db: Database, clock: Clock, jobs: list[Job], holder: str,
                 lease_for: timedelta, dispatcher: Dispatcher | None = None) -> None:
        """``dispatcher``: the one the outbox job uses, if any (closed with the worker)."""
        self.db, self.clock, self.holder, self.lease_for = db, clock, holder, lease_for
        self.jobs = {job.name: job for job in jobs}
        self.dispatcher = dispatcher
        self.stop = threading.Event()

    def close(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.close()

    # -- one tick ----------------------------------------------------------------------

    def run_due(self) -> list[Outcome]:
        """Run every job that is due now; returns what ran."""
        done: list[Outcome] = []
        for job in self.jobs.values():
            if self.stop.is_set():
                break
            outcome = self._run_if_due(job)
            if outcome is not None:
                done.append(outcome)
        return done

    def run_job(self, name: str) -> Outcome:
        """Run job ``name`` now, due or not (still under its lease)."""
        job = self.jobs.get(name)
        if job is None:
            raise NotFound(f"没有名为 {name} 的作业", f"no job named {name}", code="job_not_found")
        outcome = self._run(job, forced=True)
        if outcome is None:
            raise RuntimeError(f"job {name} is running in another worker")
        return outcome

    def next_due(self, job: Job) -> datetime | None:
        """When ``job`` is due next (None: a queue with nothing pending)."""
        if job.schedule is None:
            assert job.pending is not None
            return job.pending()
        last_ok = leases.last_started(self.db, job.name, outcome="ok")
        due = self.clock.now() if last_ok is None else job.schedule.next_after(last_ok)
        last_failed = leases.last_started(self.db, job.name, outcome="failed")
        if last_failed is not None and (last_ok is None or last_failed > last_ok):
            due = max(due, last_failed + RETRY_AFTER)
        return due

    def _run_if_due(self, job: Job) -> Outcome | None:
        due = self.next_due(job)
        if due is None or due > self.clock.now():
            return None
        return self._run(job, forced=False)

    def _run(self, job: Job, *, forced: bool) -> Outcome | None:
        if job.schedule is None:
            return self._execute(job, record_idle=forced)
        if not leases.acquire(self.db, job=job.name, holder=self.holder,
                              now=self.clock.now(), lease_for=self.lease_for):
            return None  # another worker is running it
        try:
            if not forced:  # it may have run elsewhere between our check and our lease
                due = self.next_due(job)
                if due is None or due > self.clock.now():
                    return None
            return self._execute(job, record_idle=True)
        finally:
            leases.release(self.db, job=job.name, holder=self.holder)

    def _execute(self, job: Job, *, record_idle: bool) -> Outcome | None:
        started = self.clock.now()
        try:
            counts = job.run(started, self.stop)
        except Exception as exc:  # recorded and retried; one job never stops the others
            log.exception("job.failed", job=job.name)
            error = f"{type(exc).__name__}: {exc}"[:4000]
            leases.record_run(self.db, job=job.name, holder=self.holder, started_at=started,
                              finished_at=self.clock.now(), outcome="failed", counts={},
                              error=error)
            return Outcome(job.name, started, "failed", {}, error)
        if record_idle or any(counts.values()):
            leases.record_run(self.db, job=job.name, holder=self.holder, started_at=started,
                              finished_at=self.clock.now(), outcome="ok", counts=counts,
                              error=None)
        if any(counts.values()):
            log.info("job.done", job=job.name, **counts)
        return Outcome(job.name, started, "ok", counts)

    # -- the loop and what operators see -----------------------------------------------

    def run_forever(self, *, poll: float) -> None:
        """Tick every ``poll`` seconds until ``stop`` is set (SIGTERM in ``yibaodai worker``
        and ``serve``); the tick in progress finishes its current step first."""
        log.info("worker.started", holder=self.holder, jobs=sorted(self.jobs))
        while not self.stop.is_set():
            try:
                self.run_due()
            except Exception:  # e.g. the database is away: log, wait, try again
                log.exception("worker.tick_failed")
            self.stop.wait(poll)
        log.info("worker.stopped", holder=self.holder)

    def status(self, *, recent: int = 5) -> list[dict[str, Any]]:
        """Each job's schedule, next due time and recent runs (``yibaodai jobs list``)."""
        out: list[dict[str, Any]] = []
        for job in self.jobs.values():
            due = self.next_due(job)
            out.append({
                "job": job.name, "description": job.description,
                "schedule": job.schedule.describe() if job.schedule else "when work is due",
                "next_due": due.isoformat() if due else None,
                "recent_runs": leases.recent_runs(self.db, job.name, limit=recent),
            })
        return out

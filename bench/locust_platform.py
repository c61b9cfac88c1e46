"""Locust users of the platform benchmark (run by ``bench.platform_load``; not a test).

Each user is a department manager (the roles that may open every page measured) signed in
with a bearer token (issued before the run), working through the four pages in turn with a
short think time: the dashboard, a filtered case list, a case's detail and an institution
view, and the trivial ``/api/health`` as the baseline of the same server under the same
load. Accounts and case ids come from the JSON file named by ``YB_BENCH_PLAN``; its
``warmup_s`` seconds of load are not counted: the statistics are reset when they end."""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

PLAN: dict[str, Any] = json.loads(Path(os.environ["YB_BENCH_PLAN"]).read_text(encoding="utf-8"))
_accounts = itertools.cycle(PLAN["accounts"])
STATES = ("assigned", "claimed", "verified", "drawn")


#: Every successful request's time in ms as measured (locust's own percentiles round each
#: time under 100 ms to a whole millisecond, too coarse for a ratio of pages near 15 ms to an
#: endpoint near 5 ms), by request name, from the end of the warm-up.
TIMES: dict[str, list[float]] = {}
_COUNTING = {"on": float(PLAN.get("warmup_s", 0)) <= 0}


def _timed(request_type: str, name: str, response_time: float, response_length: int,
           exception: BaseException | None = None, **_kw: Any) -> None:
    if _COUNTING["on"] and exception is None:
        TIMES.setdefault(name, []).append(response_time)


def _write_times(environment: Environment, **_kw: Any) -> None:
    Path(PLAN["times_out"]).write_text(json.dumps(TIMES), encoding="utf-8")


events.request.add_listener(_timed)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_write_times)  # type: ignore[no-untyped-call]


def _count_after_warmup(environment: Environment, **_kw: Any) -> None:
    """Reset the statistics once the warm-up has run (connections opened, statements
    prepared, users out of step): what is written at the end is the steady state."""
    warmup = float(PLAN.get("warmup_s", 0))
    if warmup <= 0:
        return

    def end_of_warmup() -> None:
        seen = {name: {"requests": e.num_requests, "p95_ms": e.get_response_time_percentile(0.95),
                       "max_ms": e.max_response_time}
                for (name, _method), e in environment.stats.entries.items()}
        Path(PLAN["warmup_out"]).write_text(json.dumps(seen), encoding="utf-8")
        environment.stats.reset_all()
        TIMES.clear()
        _COUNTING["on"] = True

    gevent.spawn_later(warmup, end_of_warmup)


events.test_start.add_listener(_count_after_warmup)  # type: ignore[no-untyped-call]


class Manager(HttpUser):
    wait_time = between(PLAN["think_min"], PLAN["think_max"])

    def on_start(self) -> None:
        account = next(_accounts)  # signed in beforehand: argon2 log-ins are not measured
        self.client.headers["Authorization"] = f"Bearer {account['token']}"
        self.cases: list[list[Any]] = PLAN["cases"][account["sub_branch"] or "*"]
        self.rng = random.Random(account["username"])
        # each user starts the round at its own page, so the users are not in step
        pages = [self.dashboard, self.case_list, self.case_detail, self.institution,
                 self.health]
        start = self.rng.randrange(len(pages))
        self.pages = itertools.cycle(pages[start:] + pages[:start])

    @task
    def next_page(self) -> None:
        """The pages in turn (not drawn at random): every page gets its share of requests
        even in a short run, and the trivial endpoint sees the same load as the others."""
        next(self.pages)()

    def dashboard(self) -> None:
        self.client.get("/api/dashboard", name="dashboard")

    def case_list(self) -> None:
        params = {"state": self.rng.choice(STATES), "sort": "-credit_limit", "page_size": 20,
                  "overdue": self.rng.choice(("true", "false"))}
        if self.rng.random() < 0.5:
            params["q"] = self.rng.choice(self.cases)[2][:6]
        self.client.get("/api/cases", params=params, name="case list (filtered)")

    def case_detail(self) -> None:
        case_id = self.rng.choice(self.cases)[0]
        self.client.get(f"/api/cases/{case_id}", name="case detail")

    def institution(self) -> None:
        code = self.rng.choice(self.cases)[1]
        self.client.get(f"/api/institutions/{code}", name="institution view")

    def health(self) -> None:
        self.client.get("/api/health", name="trivial (/api/health)")

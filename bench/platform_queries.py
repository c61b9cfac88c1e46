"""What each page of the platform benchmark costs on the server, one request at a time: the
SQL statements per request (N+1 shows here), the time in the database and the wall time of
the request, and optionally the PostgreSQL plan of each statement.

    .venv/bin/python -m bench.platform_queries --reuse-db NAME [--requests 20] [--explain]
        [--role sub_branch_manager|branch_manager] [--show-sql]

``NAME`` is a database kept by ``python -m bench.platform_load --reuse-db NAME`` (the same
5,000 institutions and 3 years of data). The app is built in this process as ``bench.common``
serves it (``build_bank``, the clock frozen at the benchmark's day) and driven through
Starlette's test client, so no network or other process is in the way; the pages are
requested as ``bench/locust_platform.py`` requests them. ``--explain`` prints
``EXPLAIN (ANALYZE, BUFFERS)`` of every distinct statement of the first request of a page.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url

from bench.common import machine_facts, pg_url_from_env
from bench.platform_load import AS_OF, STATE, _read_loaded
from yibaodai.clock import SHANGHAI


class Statements:
    """Every statement the engine runs while ``recording``, with its parameters and time."""

    def __init__(self, engine: Engine) -> None:
        self.recording = False
        self.seen: list[tuple[str, Any, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _sql: str, _params: Any, _context: Any,
                _many: bool) -> None:
        conn.info["yb_t0"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, sql: str, params: Any, _context: Any,
               _many: bool) -> None:
        if self.recording:
            self.seen.append((sql, params, time.perf_counter() - conn.info.pop("yb_t0")))

    @contextmanager
    def record(self) -> Iterator[list[tuple[str, Any, float]]]:
        self.seen = []
        self.recording = True
        try:
            yield self.seen
        finally:
            self.recording = False


def _requests(plan: dict[str, Any], rng: random.Random) -> dict[str, tuple[str, dict[str, Any]]]:
    """One request of each page, drawn as the locust users draw them."""
    cases = plan["cases"]
    states = ("assigned", "claimed", "verified", "drawn")
    params: dict[str, Any] = {"state": rng.choice(states), "sort": "-credit_limit",
                              "page_size": 20, "overdue": rng.choice(("true", "false"))}
    if rng.random() < 0.5:
        params["q"] = rng.choice(cases)[2][:6]
    return {"trivial (/api/health)": ("/api/health", {}),
            "dashboard": ("/api/dashboard", {}),
            "case list (filtered)": ("/api/cases", params),
            "case detail": (f"/api/cases/{rng.choice(cases)[0]}", {}),
            "institution view": (f"/api/institutions/{rng.choice(cases)[1]}", {})}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from yibaodai.bootstrap import open_database
    from yibaodai.clock import SimulatedClock
    from yibaodai.runtime import build_bank
    from yibaodai.settings import Settings

    state = STATE / args.reuse_db
    if not (state / "loaded.json").exists():
        raise SystemExit(f"no kept database {args.reuse_db!r}: run "
                         f"python -m bench.platform_load --reuse-db {args.reuse_db} first")
    loaded, _load_s, _when = _read_loaded(state / "loaded.json")
    url = make_url(args.pg_url).set(database=args.reuse_db).render_as_string(
        hide_password=False)
    settings = Settings(database_url=url, var_dir=state / "var", demo_mode=True)
    frozen = datetime.combine(AS_OF, datetime.min.time(), SHANGHAI) + timedelta(hours=10)
    bank = build_bank(settings, SimulatedClock(frozen), open_database(settings))
    statements = Statements(bank.db.engine)
    account = next(a for a in loaded.accounts if a.role == args.role)
    with bank.db.engine.connect() as c:
        rows = c.execute(text(
            "SELECT c.id, c.fixmedins_code, i.fixmedins_name, c.sub_branch_code FROM cases c "
            "JOIN institutions i ON i.fixmedins_code = c.fixmedins_code ORDER BY c.id")).all()
    cases = [[r[0], r[1], r[2]] for r in rows
             if account.sub_branch is None or r[3] == account.sub_branch]
    rng = random.Random(7)
    report: dict[str, Any] = {"machine": machine_facts(args.pg_url), "role": args.role,
                              "requests_per_page": args.requests, "pages": {}}
    with TestClient(bank.app) as client:
        token = client.post("/api/auth/token", json={
            "username": account.username, "password": account.password}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        for path, query in _requests({"cases": cases}, rng).values():  # warm every page
            client.get(path, params=query)
        per_page: dict[str, dict[str, list[float]]] = {}
        first: dict[str, list[tuple[str, Any, float]]] = {}
        for n in range(args.requests):
            for page, (path, query) in _requests({"cases": cases}, rng).items():
                with statements.record() as seen:
                    t0 = time.perf_counter()
                    answer = client.get(path, params=query)
                    wall = time.perf_counter() - t0
                if answer.status_code != 200:
                    raise RuntimeError(f"{page}: {answer.status_code} {answer.text[:300]}")
                got = per_page.setdefault(page, {"wall": [], "sql": [], "queries": [],
                                                 "bytes": []})
                got["wall"].append(wall * 1000)
                got["sql"].append(sum(s[2] for s in seen) * 1000)
                got["queries"].append(len(seen))
                got["bytes"].append(len(answer.content))
                if n == 0:
                    first[page] = list(seen)
    for page, got in per_page.items():
        report["pages"][page] = {
            "queries_per_request": statistics.median(got["queries"]),
            "queries_max": max(got["queries"]),
            "median_wall_ms": round(statistics.median(got["wall"]), 1),
            "p95_wall_ms": round(sorted(got["wall"])[int(0.95 * (len(got["wall"]) - 1))], 1),
            "median_sql_ms": round(statistics.median(got["sql"]), 1),
            "median_bytes": int(statistics.median(got["bytes"]))}
        if args.show_sql or args.explain:
            print(f"\n==== {page}: {len(first[page])} statements")
            for sql, params, took in first[page]:
                print(f"-- {took * 1000:.2f} ms: {' '.join(sql.split())[:300]}")
                if args.explain and sql.lstrip().upper().startswith("SELECT"):
                    _explain(bank.db.engine, sql, params)
    bank.db.dispose()
    return report


def _explain(engine: Engine, sql: str, params: Any) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cur.fetchall():
            print("   ", line)
        raw.rollback()
    finally:
        raw.close()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.platform_queries")
    ap.add_argument("--pg-url", default=pg_url_from_env())
    ap.add_argument("--reuse-db", required=True, metavar="NAME")
    ap.add_argument("--requests", type=int, default=20, help="requests of each page")
    ap.add_argument("--role", default="sub_branch_manager",
                    choices=("sub_branch_manager", "branch_manager"))
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--show-sql", action="store_true")
    args = ap.parse_args()
    print(json.dumps(run(args), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

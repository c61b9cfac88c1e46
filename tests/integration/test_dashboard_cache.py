"""The dashboard's cache (``reports.dashboard_cache``, ``db.changes``): whatever changes — a
staff action over HTTP, another process's SQL, the clock passing a deadline, a new day — the
dashboard served is exactly the one computed again from scratch; unchanged, it is served
without reading the figures again. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, create_engine, event, func, select, text, update
from sqlalchemy.sql.util import find_tables

from tests.conftest import Installation
from tests.integration.test_platform_round_trips import MISS, counted
from tests.integration.test_routes_by_role import World, make_world
from yibaodai.clock import SimulatedClock
from yibaodai.db import changes
from yibaodai.db.models import CaseRow, DataChangeRow, SubBranchRow, UserRow, WarningRow
from yibaodai.db.session import Database
from yibaodai.reports.dashboard import dashboard
from yibaodai.sim.server import ServerThread
from yibaodai.web.deps import actor_from_user
from yibaodai.web.routes.dashboard import DashboardOut, running_campaigns


def fresh(installation: Installation, username: str, clock: SimulatedClock) -> str:
    """The dashboard computed again, in a session of its own, with no cache: its JSON."""
    with installation.bank.db.unit_of_work() as s:
        actor = actor_from_user(s.scalars(select(UserRow).where(
            UserRow.username == username)).one())
        now, today = clock.now(), clock.today()
        figures = dashboard(s, actor=actor, now=now, today=today)
        out = DashboardOut(**dict(figures.dashboard),
                           campaigns=running_campaigns(s, actor=actor, today=today))
    return out.model_dump_json()


def served(client: httpx.Client) -> str:
    """The dashboard's JSON as the server sent it."""
    r = client.get("/api/dashboard")
    assert r.status_code == 200, r.text
    return r.text


def readers(w: World) -> dict[str, httpx.Client]:
    return {w.users[label]: w.clients[label] for label in (
        "branch_manager", "sub_branch_manager", "other_sub_branch_manager", "client_manager")}


def test_the_dashboard_reads_only_tables_whose_changes_are_noted(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """Every table the dashboard and its running campaigns read carries the noting trigger,
    so no change to what it shows can leave the cached answer standing."""
    w = make_world(bank_server, installation, clock)
    read: set[str] = set()

    def note(_conn: Any, clause: Any, *_rest: Any) -> None:
        read.update(t.name for t in find_tables(clause, check_columns=True,
                                                 include_aliases=True, include_joins=True,
                                                 include_selects=True) if isinstance(t, Table))

    engine = installation.bank.db.engine
    event.listen(engine, "before_execute", note)
    try:
        for username in readers(w):
            fresh(installation, username, clock)
    finally:
        event.remove(engine, "before_execute", note)
    assert {"cases", "campaigns", "prospects"} <= read  # the capture saw the reads
    assert read - {"users"} <= set(changes.TRACKED_TABLES), read  # users: ``fresh``'s own
    with installation.bank.db.unit_of_work() as s:
        if s.get_bind().dialect.name == "postgresql":
            noted = {r[0] for r in s.execute(text(
                "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%\\_noted'"))}
        else:
            names = s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                   "AND name LIKE '%\\_noted\\_%' ESCAPE '\\'")).all()
            noted = {n.rsplit("_noted_", 1)[0] for n in names}
            assert len(names) == 3 * len(noted)  # insert, update, delete
    assert noted == set(changes.TRACKED_TABLES)
    w.close()


def test_a_note_becomes_visible_with_its_change_and_a_prune_never_repeats_a_version(
        db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.unit_of_work() as s:
            first = changes.version(s)
        def branch(code: str) -> SubBranchRow:
            return SubBranchRow(code=code, name_zh="测试支行", name_en="Test", address="-",
                                phone="-", latitude=38.9, longitude=121.6, districts=[])

        with db.unit_of_work() as s:  # rolled back: no change, no note
            s.add(branch("DL900"))
            s.flush()
            s.rollback()
            assert changes.version(s) == first
        with db.unit_of_work() as s:
            s.add(branch("DL001"))
            s.commit()
            seen = [first, changes.version(s)]
        for k in range(3):
            with db.unit_of_work() as s:
                s.execute(update(SubBranchRow).where(SubBranchRow.code == "DL001")
                          .values(phone=f"0411-{k}"))
                s.commit()
                seen.append(changes.version(s))
        assert len(set(seen)) == len(seen)  # every committed change moved the version
        assert [v[0] for v in seen] == sorted(v[0] for v in seen)
        with db.unit_of_work() as s:
            changes.prune(s, seen[-1])
            s.commit()
            pruned = changes.version(s)
            assert s.scalar(select(func.count()).select_from(DataChangeRow)) == pruned[0] == 1
        assert pruned not in seen and pruned[1] > max(v[1] for v in seen)
        with db.unit_of_work() as s:  # after a prune, changes are counted from the marker
            s.execute(update(SubBranchRow).where(SubBranchRow.code == "DL001")
                      .values(phone="0411-9"))
            s.commit()
            assert changes.version(s)[1] > pruned[1]
    finally:
        db.dispose()


def test_the_cached_dashboard_is_always_the_one_computed_again(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """A seeded walk of staff actions, another process's writes, clock moves and reads by
    four scopes of viewer: after each step every read equals the dashboard computed again
    byte for byte (its ``as_of`` is the request's clock either way); repeated reads hit the
    cache."""
    w = make_world(bank_server, installation, clock)
    viewers = readers(w)
    other_process = create_engine(installation.bank.db.url)
    rng = random.Random(20261202)
    hits = 0

    def check(username: str) -> int:
        """Compares; returns the statements the request made."""
        nonlocal hits
        with counted(installation) as seen:
            got = served(viewers[username])
        assert got == fresh(installation, username, clock), username
        hits += len(seen) <= 2  # the token and the version: nothing else was read
        return len(seen)

    def claim() -> None:
        with installation.bank.db.unit_of_work() as s:
            open_ = s.scalars(select(CaseRow.id).where(
                CaseRow.state == "assigned", CaseRow.sub_branch_code == w.own)).all()
        if open_:
            w.clients["client_manager"].post(f"/api/cases/{rng.choice(open_)}/claim")

    def sql_elsewhere() -> None:
        with other_process.begin() as c:
            ids = c.scalars(select(CaseRow.id)).all()
            c.execute(update(CaseRow).where(CaseRow.id == rng.choice(ids))
                      .values(credit_limit=CaseRow.credit_limit + 100))
            if rng.random() < 0.5:
                c.execute(update(WarningRow).where(WarningRow.id == w.warn_a).values(
                    severity=rng.choice(("red", "orange", "yellow", "blue"))))

    def move_clock() -> None:
        clock.advance(timedelta(minutes=rng.choice((1, 17, 90, 400, 60 * 26))))

    try:
        for client in viewers.values():  # each token's first use is touched (a statement)
            assert client.get("/api/me").status_code == 200
        # a scope's first read computes; a second read, by anyone of that scope, is served
        # (the client manager shares the sub-branch manager's scope)
        first = {w.users[label] for label in ("branch_manager", "sub_branch_manager",
                                              "other_sub_branch_manager")}
        for username in viewers:
            assert (2 < check(username) <= MISS) if username in first \
                else check(username) <= 2, username
            assert check(username) <= 2, username
        for _ in range(40):
            rng.choice((claim, sql_elsewhere, move_clock, lambda: None))()
            for username in rng.sample(sorted(viewers), 2):
                check(username)
    finally:
        other_process.dispose()
        w.close()
    assert hits >= 10, hits  # the cache served; the walk's equalities were not all misses


def test_passing_a_deadline_recounts_the_due_work_with_no_data_changed(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """The SLA deadlines fall at the end of a working day, so the day's change would recount
    them anyway; a deadline in the middle of the day (set here) shows the clock alone, with
    the data version unchanged, recounting them."""
    w = make_world(bank_server, installation, clock)
    manager = w.clients["sub_branch_manager"]
    deadline = clock.now().replace(hour=14, minute=0, second=0, microsecond=0)
    assert clock.now() < deadline
    with installation.bank.db.unit_of_work() as s:
        case_id = s.scalars(select(CaseRow.id).where(
            CaseRow.state == "assigned", CaseRow.sub_branch_code == w.own)).first()
        s.execute(update(CaseRow).where(CaseRow.id == case_id).values(claim_deadline=deadline))
        s.commit()
        version = changes.version(s)
    clock.set(deadline)  # exactly at the deadline: not yet passed
    at = served(manager)
    clock.set(deadline + timedelta(seconds=1))
    after = served(manager)
    with installation.bank.db.unit_of_work() as s:
        assert changes.version(s) == version  # nothing but the clock moved
    row = next(r for r in json.loads(after)["due"] if r["sub_branch_code"] == w.own)
    before = next(r for r in json.loads(at)["due"] if r["sub_branch_code"] == w.own)
    assert row["claims_overdue"]["count"] == before["claims_overdue"]["count"] + 1
    assert row["claims_due_today"]["count"] == before["claims_due_today"]["count"] - 1
    assert after == fresh(installation, w.users["sub_branch_manager"], clock)
    w.close()


def test_the_notes_are_pruned_by_the_dashboard_and_it_stays_exact(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``PRUNE_ABOVE`` notes, computing the dashboard prunes them in its own
    transaction (no second transaction waiting for the first's lock on SQLite)."""
    w = make_world(bank_server, installation, clock)
    manager = w.clients["sub_branch_manager"]
    monkeypatch.setattr(changes, "PRUNE_ABOVE", 3)

    def notes() -> int:
        with installation.bank.db.unit_of_work() as s:
            return int(s.scalar(select(func.count()).select_from(DataChangeRow)) or 0)

    assert notes() > 3
    started = time.monotonic()
    assert served(manager) == fresh(installation, w.users["sub_branch_manager"], clock)
    assert notes() == 1  # the marker
    for k in range(6):
        with installation.bank.db.unit_of_work() as s:
            s.execute(update(CaseRow).where(CaseRow.id == w.case_a.id)
                      .values(credit_limit=CaseRow.credit_limit + 1))
            s.commit()
        assert served(manager) == fresh(installation, w.users["sub_branch_manager"], clock), k
        assert notes() <= 5, k
    assert time.monotonic() - started < 20  # no lock waited for its timeout
    w.close()

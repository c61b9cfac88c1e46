"""Shared fixtures. Every database test runs on SQLite and, when
``YIBAODAI_TEST_POSTGRES_URL`` is set (CI sets it), on PostgreSQL too. Each test gets its own
database: a SQLite file under tmp_path, or a PostgreSQL database cloned from a template that
was migrated once per run."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from yibaodai.audit.keys import load_chain_keys
from yibaodai.auth.passwords import use_cheapest_parameters_for_tests
from yibaodai.bootstrap import Account, ensure_keys, seed_demo_users, seed_organisation
from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.db.migrate import upgrade
from yibaodai.db.session import Database
from yibaodai.runtime import Bank, build_bank
from yibaodai.settings import Settings
from yibaodai.sim.server import ServerThread

use_cheapest_parameters_for_tests()
# `make mutation` (pyproject [tool.mutmut]) runs the unit tests under mutmut's tracing, many
# times slower and once per mutant: no deadlines, and the same examples every time. No
# shrinking either: the first failing example already kills the mutant, and shrinking it
# under the tracer can outlast mutmut's time limit (a slow "timeout" instead of a kill).
# The default: no per-example deadline and no "too slow" health check — speed is measured by
# the benchmarks, never by a test, and the shared 2-core machine makes timings noisy.
hypothesis_settings.register_profile("default-timing-free", deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
if not os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile("default-timing-free")
hypothesis_settings.register_profile("mutation", deadline=None, derandomize=True,
                                     database=None, suppress_health_check=list(HealthCheck),
                                     phases=[Phase.explicit, Phase.reuse, Phase.generate])
# Whatever finds its settings in the environment (the CLI, a Database given no chain keys)
# gets a scratch folder, never the working copy's ./var.
os.environ["YIBAODAI_VAR_DIR"] = tempfile.mkdtemp(prefix="yibaodai-test-var-")

PG_URL = os.environ.get("YIBAODAI_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
TEMPLATE = f"yb_template_{uuid.uuid4().hex[:8]}"


def _admin_engine() -> Engine:
    assert PG_URL
    return create_engine(make_url(PG_URL).set(database="postgres"),
                         isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    upgrade(make_url(PG_URL).set(database=TEMPLATE).render_as_string(hide_password=False))
    yield TEMPLATE
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           pg_template: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        return
    assert PG_URL and pg_template
    name = f"yb_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    s = Settings(database_url=db_url, var_dir=tmp_path / "var", demo_mode=True)
    ensure_keys(s.keys_dir)
    return s


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url, chain_keys=load_chain_keys(settings))
    with database.unit_of_work() as session:
        seed_organisation(session)
        session.commit()
    yield database
    database.dispose()


@dataclass
class Installation:
    bank: Bank
    accounts: dict[str, Account]
    clock: SimulatedClock
    settings: Settings


@pytest.fixture
def installation(settings: Settings, db: Database, clock: SimulatedClock) -> Installation:
    """A bank with its organisation and demo staff (one manager, two client managers per
    sub-branch, plus gm/admin/auditor)."""
    with db.unit_of_work() as session:
        accounts = seed_demo_users(session, seed=1)
        session.commit()
    bank = build_bank(settings, clock, db)
    return Installation(bank, {a.username: a for a in accounts}, clock, settings)


@pytest.fixture
def bank_server(installation: Installation) -> Iterator[ServerThread]:
    with ServerThread(installation.bank.app) as server:
        yield server

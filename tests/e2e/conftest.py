"""The browser tests' world: one bank on SQLite with the built front-end, the bureau and head
office simulators on real sockets, and a small scenario made through the real interfaces
(bureau pushes, the staff API, the dispatcher, head office's loan report): cases waiting to be
claimed, verified and confirmed, a drawn loan, an open warning. Built once per module (and
per xdist worker), because onboarding institutions is the slow part; each test uses its own
cases, so tests do not depend on one another. Chromium is Debian's (no browser download);
a failed test leaves a screenshot under test-artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from tests.conftest import START, Installation
from tests.integration.test_routes_by_role import add_warning
from tests.support.flow import World, city, likely_admitted, world
from yibaodai.bootstrap import ensure_keys, open_database, seed_demo_users, seed_organisation
from yibaodai.clock import SimulatedClock
from yibaodai.db.migrate import upgrade
from yibaodai.db.models import CaseRow, UserRow
from yibaodai.runtime import build_bank
from yibaodai.settings import Settings
from yibaodai.sim.server import ServerThread
from yibaodai.web.app import SPA

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHECKLIST = dict.fromkeys(("identity", "licence", "address", "settlement_account",
                           "operating_status"), True)


@dataclass
class Platform:
    """The running bank and what the scenario made for each journey."""

    url: str
    installation: Installation
    world: World
    clock: SimulatedClock
    to_claim: CaseRow      # assigned: a client manager claims and verifies it in the browser
    to_confirm: CaseRow    # verified: its department manager confirms it in the browser
    drawn: CaseRow         # confirmed, reported, drawn: head office's status is on the page
    warning_id: int        # an open warning on ``to_claim``, for its client manager

    def password(self, username: str) -> str:
        return self.installation.accounts[username].password

    def api(self, method: str, username: str, path: str, **kw: object) -> httpx.Response:
        return self.world.api(method, username, path, **kw)


def staff(case: CaseRow) -> tuple[str, str]:
    """The client manager and the department manager of the case's sub-branch."""
    sub = case.sub_branch_code.lower()
    return f"cm_{sub}_1", f"mgr_{sub}"


def _cases(installation: Installation) -> list[CaseRow]:
    with installation.bank.db.unit_of_work() as s:
        rows = list(s.scalars(select(CaseRow).order_by(CaseRow.id)))
        s.expunge_all()
    return rows


def _user_id(installation: Installation, username: str) -> int:
    with installation.bank.db.unit_of_work() as s:
        uid = s.scalars(select(UserRow.id).where(UserRow.username == username)).one()
    return int(uid)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not (SPA / "index.html").is_file():
        pytest.fail("the front-end is not built: run `make frontend`", pytrace=False)
    tmp = tmp_path_factory.mktemp("platform")
    url = f"sqlite:///{tmp / 'bank.db'}"
    upgrade(url)
    settings = Settings(database_url=url, var_dir=tmp / "var", demo_mode=True)
    ensure_keys(settings.keys_dir)
    clock = SimulatedClock(START)
    db = open_database(settings)
    with db.unit_of_work() as s:
        seed_organisation(s)
        accounts = seed_demo_users(s, seed=1)
        s.commit()
    installation = Installation(build_bank(settings, clock, db),
                                {a.username: a for a in accounts}, clock, settings)
    try:
        with ServerThread(installation.bank.app) as server, \
                world(installation, server.url) as w:
            for inst in likely_admitted(city(80))[:6]:
                w.onboard(inst)
            cases = [c for c in _cases(installation) if c.state == "assigned"]
            assert len(cases) >= 3, f"the scenario needs 3 admitted cases, got {len(cases)}"
            to_claim, to_confirm, drawn = cases[0], cases[1], cases[2]
            cm, _ = staff(to_confirm)
            for path, body in (("claim", None), ("verification", {"checklist": CHECKLIST})):
                r = w.api("POST", cm, f"/api/cases/{to_confirm.id}/{path}", json=body)
                assert r.status_code == 200, r.text
            w.confirm(drawn.id, drawn.sub_branch_code)
            w.dispatcher.dispatch_due()
            assert w.desk.draw_loans(share=1.0) >= 1
            warning_id = add_warning(installation, to_claim,
                                     assigned_to=_user_id(installation, staff(to_claim)[0]))
            yield Platform(server.url, installation, w, clock, to_claim, to_confirm, drawn,
                           warning_id)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found (looked for 'chromium' on PATH and {executable}); "
                    "install it: bash scripts/ensure-browser.sh", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) in Chinese; a screenshot of the last page under
    test-artifacts/ if the test fails (of every test with ``YIBAODAI_E2E_SCREENSHOTS=1``)."""
    context = browser.new_context(locale="zh-CN", accept_downloads=True,
                                  viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    if request.node.stash.get(FAILED, False) or os.environ.get("YIBAODAI_E2E_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page: Page, platform: Platform, username: str, *, at: str = "/") -> None:
    """Through the log-in page, as a person would; waits for the first page after it."""
    page.goto(f"{platform.url}{at}")
    page.wait_for_url("**/login**")
    assert "expired" not in page.url  # a first visit is not an expired session
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(platform.password(username))
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=menu]")

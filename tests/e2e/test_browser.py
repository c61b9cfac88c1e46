"""A real browser (Chromium via Playwright) against the real app on a loopback port: a client
manager signs in, sees only their sub-branch, claims a case through the form; the general
manager sees every sub-branch. SQLite only, to keep CI time low."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import Installation
from tests.integration.test_routes_by_role import admitted_cases
from yibaodai.clock import SimulatedClock
from yibaodai.sim.server import ServerThread

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found (looked for 'chromium' on PATH and {executable}); "
                    "install it, e.g. apt-get install chromium", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.e2e
def test_a_client_manager_claims_a_case_in_the_browser_and_the_gm_sees_every_sub_branch(
        request: pytest.FixtureRequest, bank_server: ServerThread, installation: Installation,
        clock: SimulatedClock, browser: Browser, tmp_path: Path) -> None:
    if "postgresql" in request.node.callspec.id:
        pytest.skip("the browser test runs on SQLite only")
    cases = admitted_cases(bank_server, installation, clock, count=3)
    mine = cases[0]
    sub = mine.sub_branch_code
    own_ids = {c.id for c in cases if c.sub_branch_code == sub}
    username = f"cm_{sub.lower()}_1"
    base = bank_server.url

    page = browser.new_page(locale="zh-CN")
    sign_in(page, base, username, installation.accounts[username].password)
    rows = page.locator("#cases tbody tr[data-sub-branch]")
    assert {rows.nth(i).get_attribute("data-sub-branch") for i in range(rows.count())} == {sub}
    assert rows.count() == len(own_ids)
    assert page.locator(".watermark").inner_text().endswith("请勿外传")

    page.click(f'#cases a[href="/cases/{mine.id}"] >> nth=0')
    page.wait_for_url(f"{base}/cases/{mine.id}")
    assert page.locator("#state").get_attribute("data-state") == "assigned"
    assert page.locator("#monthly-fund-pay").count() == 0  # client managers see no data
    page.click("#claim-form button")
    page.wait_for_url(f"{base}/cases/{mine.id}?done=claim")
    assert page.locator("#state").get_attribute("data-state") == "claimed"
    assert "已认领待核实" in page.locator("#state").inner_text()
    assert page.locator("#verification-form").is_visible()
    assert page.locator('#timeline tr[data-event="claim"]').count() == 1
    shot = tmp_path / "case.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    page.close()

    gm = browser.new_page(locale="zh-CN")
    sign_in(gm, base, "gm", installation.accounts["gm"].password)
    gm_rows = gm.locator("#cases tbody tr[data-sub-branch]")
    assert gm_rows.count() == len(cases)
    assert {gm_rows.nth(i).get_attribute("data-sub-branch") for i in range(gm_rows.count())} \
        == {c.sub_branch_code for c in cases}
    gm.goto(f"{base}/cases/{mine.id}")
    assert gm.locator("#monthly-fund-pay tbody tr").count() == 12
    gm.close()

"""Each role's main journey through the report platform in a real browser (Debian's Chromium
via Playwright) against the real bank: log in, dashboard, find a case by USCC, claim, verify
with the checklist, approve as manager, head office's status, handle a warning, export the case
list and read it back, change a whitelist setting (refused to a client manager), English, log
out, an expired session, the platform's own error pages."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Platform, sign_in, staff

pytestmark = pytest.mark.e2e


def case_state(page: Page) -> str:
    return page.get_by_test_id("case-state").get_attribute("data-state") or ""


def test_a_client_manager_finds_a_case_by_uscc_claims_and_verifies_it_and_handles_a_warning(
        platform: Platform, page: Page) -> None:
    case = platform.to_claim
    cm, _ = staff(case)
    sign_in(page, platform, cm)
    expect(page.locator("[data-stage=admitted]")).to_be_visible()  # the dashboard first
    watermark = page.get_by_test_id("watermark").get_attribute("data-text") or ""
    assert watermark.endswith("请勿外传")
    assert platform.installation.accounts[cm].display_name in watermark

    page.locator("[data-menu='/cases']").click()
    uscc = page_uscc(platform, case.id)
    page.get_by_test_id("case-search").fill(uscc)
    page.get_by_test_id("case-filters-submit").click()
    page.wait_for_url(re.compile(rf"q={uscc}"))
    rows = page.locator("[data-testid=case-table] tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator(f"[data-case-id='{case.id}']").click()
    page.wait_for_url(f"**/cases/{case.id}")
    assert case_state(page) == "assigned"
    expect(page.get_by_test_id("decision-inputs")).to_have_count(0)  # no settlement data

    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "claimed")
    form = page.get_by_test_id("verification-form")
    for box in form.locator("[data-check]").all():
        box.click()
    page.get_by_test_id("verification-note").fill("现场核实：证照、地址、账户一致")
    page.get_by_test_id("verification-submit").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "verified")
    expect(page.locator("[data-testid=timeline] [data-event=claim]")).to_have_count(1)
    expect(page.get_by_test_id("confirm")).to_have_count(0)  # four eyes: not the verifier's

    page.locator("[data-menu='/warnings']").click()
    handle = page.locator(f"[data-handle='{platform.warning_id}']")
    handle.click()
    page.get_by_test_id("warning-form").locator("[data-kind=explained]").click()
    page.get_by_test_id("warning-outcome").fill("已电话核实，收入下降系装修停业一周")
    page.get_by_test_id("warning-submit").click()
    expect(handle).to_have_count(0)
    expect(page.locator("[data-testid=warning-table] [data-state=closed]").first).to_be_visible()


def page_uscc(platform: Platform, case_id: int) -> str:
    r = platform.api("GET", "gm", f"/api/cases/{case_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["institution"]["uscc"])


def test_a_department_manager_approves_a_verified_case_and_sees_head_office_status(
        platform: Platform, page: Page) -> None:
    case = platform.to_confirm
    _, mgr = staff(case)
    sign_in(page, platform, mgr, at=f"/cases/{case.id}")
    page.wait_for_url(f"**/cases/{case.id}")  # back where the log-in was asked for
    assert case_state(page) == "verified"
    page.get_by_test_id("confirm").click()
    page.locator(".el-message-box__btns .el-button--primary").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "confirmed")
    expect(page.get_by_test_id("decision-inputs")).to_be_visible()  # managers see the data

    drawn = platform.drawn
    _, drawn_mgr = staff(drawn)
    if drawn_mgr != mgr:
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("menu-logout").click()
        page.wait_for_url("**/login**")
        sign_in(page, platform, drawn_mgr)
    page.goto(f"{platform.url}/cases/{drawn.id}")
    head_office = page.get_by_test_id("head-office")
    expect(head_office).to_contain_text("已放款（元）")
    amount = head_office.locator("[data-field=drawn]").inner_text()
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", amount), amount
    assert case_state(page) == "drawn"


def test_a_department_manager_drafts_a_whitelist_setting_and_a_client_manager_is_refused(
        platform: Platform, page: Page) -> None:
    cm, mgr = staff(platform.to_claim)
    sign_in(page, platform, mgr)
    page.locator("[data-menu='/models']").click()
    table = page.get_by_test_id("model-table")
    active = table.locator("[data-stage=active]").first
    expect(active).to_be_visible()
    before = table.locator("tbody tr.el-table__row").count()
    table.locator("[data-draft-from]").first.click()
    form = page.get_by_test_id("draft-form")
    form.get_by_test_id("draft-label").fill("e2e-2026-09")
    setting = form.locator("[data-setting='policy.min_months_of_history']")
    expect(setting).not_to_have_value("")
    setting.fill("15")
    page.get_by_test_id("draft-submit").click()
    expect(table.locator("tbody tr.el-table__row")).to_have_count(before + 1)
    draft = table.locator("tr.el-table__row", has_text="e2e-2026-09")
    expect(draft.locator("[data-stage=draft]")).to_be_visible()
    draft.locator("[data-action=submit]").click()
    expect(draft.locator("[data-stage=submitted]")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")
    sign_in(page, platform, cm)
    expect(page.locator("[data-menu='/models']")).to_have_count(0)
    page.goto(f"{platform.url}/models")
    expect(page.locator("[data-status='403']")).to_be_visible()


def test_the_branch_manager_drills_from_the_dashboard_and_exports_the_case_list(
        platform: Platform, page: Page, tmp_path: Path) -> None:
    sign_in(page, platform, "gm")
    stage = page.locator("[data-stage=admitted]")
    shown = int(stage.get_by_test_id("stage-count").inner_text().replace(",", ""))
    assert shown >= 3
    stage.click()
    page.wait_for_url(re.compile(r"/cases\?"))
    expect(page.get_by_test_id("case-total")).to_contain_text(str(shown))

    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and any(
        isinstance(v, str) and "元" in v for v in r))
    header = rows[header_at]
    limit_col = next(i for i, v in enumerate(header) if isinstance(v, str) and "额度" in v
                     and "元" in v)
    body = [r for r in rows[header_at + 1:] if r and r[limit_col] is not None]
    assert len(body) == shown
    assert all(isinstance(r[limit_col], int | float) and r[limit_col] > 0 for r in body)

    sub = platform.drawn.sub_branch_code
    in_sub = platform.api("GET", "gm", "/api/cases", params={"sub_branch": sub}).json()["total"]
    page.goto(f"{platform.url}/cases?sub_branch={sub}")
    expect(page.get_by_test_id("case-total")).to_contain_text(str(in_sub))
    name = platform.api("GET", "gm", f"/api/cases/{platform.drawn.id}").json()["case"][
        "sub_branch_name_zh"]
    expect(page.locator(".el-cascader input").first).to_have_value(re.compile(name))

    page.goto(f"{platform.url}/cases/{platform.drawn.id}")
    page.get_by_test_id("institution-link").click()
    page.wait_for_url("**/institutions/**")
    expect(page.locator("[data-testid=income-chart] canvas")).to_have_count(1)


def test_english_is_remembered_for_the_user_and_log_out_ends_the_session(
        platform: Platform, page: Page) -> None:
    cm, _ = staff(platform.drawn)
    sign_in(page, platform, cm)
    page.get_by_test_id("locale-switch").get_by_text("English").click()
    expect(page.locator("[data-menu='/cases']")).to_contain_text("Cases")
    page.reload()
    expect(page.locator("[data-menu='/cases']")).to_contain_text("Cases")
    assert platform.api("GET", cm, "/api/me").json()["user"]["locale"] == "en-US"

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")
    page.goto(f"{platform.url}/cases")
    page.wait_for_url(re.compile(r"/login\?redirect=(/|%2F)cases"))
    platform.api("PUT", cm, "/api/me/locale", json={"locale": "zh-CN"})


def test_an_expired_session_returns_to_log_in_and_then_back_to_the_page(
        platform: Platform, page: Page) -> None:
    sign_in(page, platform, "auditor", at="/audit")
    page.wait_for_url("**/audit")
    expect(page.locator("[data-testid=audit-table] tbody tr").first).to_be_visible()
    idle = platform.installation.settings.session_idle_minutes
    platform.clock.advance(timedelta(minutes=idle + 1))
    page.get_by_test_id("audit-actor").fill("auditor")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login\?redirect=.*audit.*expired=1|/login\?.*expired=1"))
    page.get_by_test_id("username").fill("auditor")
    page.get_by_test_id("password").fill(platform.password("auditor"))
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/audit\?actor=auditor"))
    expect(page.locator("[data-testid=audit-table] tbody tr").first).to_contain_text("auditor")


def test_unknown_addresses_show_the_platforms_own_not_found_page(
        platform: Platform, page: Page) -> None:
    sign_in(page, platform, "admin")
    for path in ("/cases/abc", "/no/such/page"):
        response = page.goto(f"{platform.url}{path}")
        assert response is not None and "text/html" in response.headers["content-type"]
        expect(page.locator("[data-status='404']")).to_be_visible()
    expect(page.locator("[data-menu='/users']")).to_have_count(0)  # error pages stand alone
    page.goto(f"{platform.url}/users")
    expect(page.get_by_test_id("user-table").locator("tbody tr").first).to_be_visible()


def test_a_user_changes_their_password_on_the_page_and_signs_in_with_the_new_one(
        platform: Platform, page: Page) -> None:
    sub = platform.to_claim.sub_branch_code.lower()
    username = f"cm_{sub}_2"  # used by no other journey
    sign_in(page, platform, username)
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-password").click()
    page.wait_for_url("**/password")
    form = page.get_by_test_id("password-form")
    form.locator("input[name=current_password]").fill(platform.password(username))
    form.locator("input[name=new_password]").fill("short")
    form.locator("input[name=again_password]").fill("short")
    form.locator("button[type=submit]").click()
    expect(form.locator(".el-form-item__error").first).to_be_visible()  # the server's words
    assert page.url.endswith("/password")

    new_password = "Xin-mima-2026-09"
    form.locator("input[name=new_password]").fill(new_password)
    form.locator("input[name=again_password]").fill(new_password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{platform.url}/")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(platform.password(username))
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()  # the old one no longer works
    page.get_by_test_id("password").fill(new_password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=menu]")

"""The model workbench in a real browser: a department manager builds a draft from a
development sample in the build dialog (submitted for approval as themself), lands on its
validation report (tables and charts), downloads the Excel and reads it back, and opens the
monitoring page; a client manager has no menu for it and is refused the address."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Platform, sign_in, staff
from tests.support.modelkit import synthetic_observations
from yibaodai.modelkit.samples import write_csv

pytestmark = pytest.mark.e2e


def test_a_manager_builds_validates_and_monitors_a_model_and_a_client_manager_is_refused(
        platform: Platform, page: Page, tmp_path: Path) -> None:
    cm, mgr = staff(platform.to_claim)
    sample = tmp_path / "开发样本.csv"
    recent = [replace(o, bad=None) for o in synthetic_observations(400, seed=6, shift=0.5)]
    write_csv(sample, synthetic_observations(2400, seed=5) + recent)
    platform.clock.advance(timedelta(minutes=5))  # the scenario's decisions are in the past

    sign_in(page, platform, mgr)
    page.locator("[data-menu='/models']").click()
    page.get_by_test_id("build-open").click()
    form = page.get_by_test_id("build-form")
    form.locator("input[type=file]").set_input_files(str(sample))
    form.get_by_test_id("build-label").fill("wb-e2e")
    form.get_by_test_id("build-submit-switch").click()
    page.get_by_test_id("build-run").click()
    page.wait_for_url("**/models/*/validation", timeout=120_000)
    vid = int(page.url.rstrip("/").split("/")[-2])
    expect(page.get_by_test_id("validation-version")).to_have_text("wb-e2e")
    made = platform.api("GET", "gm", f"/api/models/{vid}").json()
    assert (made["stage"], made["created_by"]) == ("submitted", mgr)

    report = page.get_by_test_id("report-development")
    table = report.get_by_test_id("discrimination-table")
    expect(table.locator("tbody tr.el-table__row").first).to_be_visible()
    shown_auc = table.locator("tbody tr.el-table__row").nth(1).locator("[data-metric=auc]")
    for chart in ("distribution-chart", "badrate-chart", "roc-chart", "ks-chart"):
        expect(report.get_by_test_id(chart).locator("canvas")).to_have_count(1)
    expect(report.locator("[data-testid=stability-table] [data-light]").first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_test_id("validation-xlsx").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)
    assert "Dev Summary" in book.sheetnames and "Recent Stability" in book.sheetnames
    rows = list(book["Dev Summary"].iter_rows(values_only=True))
    header = rows[1]
    test_row = next(r for r in rows[2:] if r[header.index("样本 rows of")] == "development/test")
    auc = test_row[header.index("AUC")]
    assert isinstance(auc, float) and 0.5 < auc < 1
    assert shown_auc.inner_text() == f"{auc:.3f}"  # the page and the workbook agree

    page.get_by_test_id("to-monitoring").click()
    page.wait_for_url(f"**/models/monitoring?version={vid}")
    months = page.get_by_test_id("monitoring-months")
    expect(months.locator("tbody tr.el-table__row").first).to_be_visible()
    expect(page.get_by_test_id("psi-chart").locator("canvas")).to_have_count(1)
    expect(page.locator("[data-testid=lights-table] [data-light]").first).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")
    sign_in(page, platform, cm)
    expect(page.locator("[data-menu='/models']")).to_have_count(0)
    page.goto(f"{platform.url}/models/{vid}/validation")
    expect(page.locator("[data-status='403']")).to_be_visible()
    assert platform.api("GET", cm, f"/api/models/{vid}/validation").status_code == 403
    assert platform.api("GET", cm, f"/api/models/{vid}/validation.xlsx").status_code == 403


def test_the_dashboard_shows_a_running_campaign_and_its_figures_open_the_lists_behind_them(
        platform: Platform, page: Page) -> None:
    _, mgr = staff(platform.to_claim)
    own = platform.to_claim.sub_branch_code
    today = platform.clock.today()
    r = platform.api("POST", "gm", "/api/marketing/campaigns", json={
        "name": "工作台进度", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=20)).isoformat(),
        "targets": [{"sub_branch": own, "count": 4, "amount": "1200000"}]})
    assert r.status_code == 200, r.text
    campaign = r.json()["id"]
    sign_in(page, platform, mgr)
    card = page.locator(f"[data-testid=dashboard-campaigns] [data-campaign='{campaign}']")
    expect(card).to_contain_text("工作台进度")
    expect(card).to_contain_text("120.00")  # the target in 万元
    card.locator("[data-campaign-stage=interested]").click()
    page.wait_for_url(f"**/marketing/campaigns/{campaign}?stage=interested")
    page.go_back()
    page.locator(f"[data-campaign='{campaign}'] [data-campaign-stage=listed]").click()
    page.wait_for_url("**/marketing/prospects**")

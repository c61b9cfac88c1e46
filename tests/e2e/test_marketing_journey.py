"""Marketing in a real browser: the branch imports the bureau's list through the API, a client
manager opens their call list, sees the tel: links, is refused a scheduled visit without its
date (beside the field), records it with the date, and finds the prospect off today's list and
visit-scheduled in the prospects list; a department manager sees the campaign's funnel."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.e2e.conftest import Platform, sign_in
from tests.integration.test_routes_by_role import token_client
from yibaodai.db.models import ProspectRow, UserRow
from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import generate_city

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_list(platform: Platform) -> tuple[str, str]:
    """The list, imported once per platform; the busiest client manager and their manager."""
    with platform.installation.bank.db.unit_of_work() as s:
        known = s.scalar(select(func.count()).select_from(ProspectRow))
    if not known:
        out = io.BytesIO()
        city = generate_city(seed=3, institutions=120, as_of=platform.clock.today())
        write_bureau_list(city, out, seed=3, as_of=platform.clock.today())
        with token_client(platform.url, "admin", platform.installation) as admin:
            r = admin.post("/api/marketing/imports", content=out.getvalue(),
                           params={"filename": "名单.xlsx"}, headers={"content-type": XLSX})
        assert r.status_code == 200, r.text
    with platform.installation.bank.db.unit_of_work() as s:
        manager_id = s.execute(select(ProspectRow.client_manager_id).where(
            ProspectRow.client_manager_id.is_not(None)).group_by(
            ProspectRow.client_manager_id).order_by(func.count().desc())).scalars().first()
        user = s.get(UserRow, manager_id)
        assert user is not None and user.sub_branch_code
        return user.username, f"mgr_{user.sub_branch_code.lower()}"


def test_a_client_manager_records_an_outcome_from_the_call_list(
        platform: Platform, page: Page) -> None:
    cm, mgr = import_list(platform)
    sign_in(page, platform, cm)
    page.locator("[data-menu='/marketing']").click()
    page.get_by_test_id("marketing-tabs").get_by_text("我的电话清单").click()
    page.wait_for_url("**/marketing/calls")
    rows = page.locator("[data-testid=call-table] tbody tr.el-table__row")
    expect(rows.first).to_be_visible()
    before = rows.count()
    tel = page.locator("[data-testid=call-table] a[data-tel]").first
    assert (tel.get_attribute("href") or "").startswith("tel:+86")

    record = rows.first.locator("[data-record]")
    prospect = record.get_attribute("data-record")
    record.click()
    form = page.get_by_test_id("outcome-form")
    form.locator("[data-outcome=visit_scheduled]").click()
    page.get_by_test_id("outcome-submit").click()
    expect(form.locator(".el-form-item__error")).to_contain_text("约见须填写约见日期")
    visit_on = (platform.clock.today() + timedelta(days=3)).isoformat()
    date_input = form.locator(".el-date-editor input")
    date_input.fill(visit_on)
    date_input.press("Enter")
    page.get_by_test_id("outcome-note").fill("约周四上午走访")
    page.get_by_test_id("outcome-submit").click()
    expect(page.locator(".el-message--success")).to_be_visible()
    expect(rows).to_have_count(before - 1)  # the visit is in three days: off today's list
    expect(page.locator(f"[data-record='{prospect}']")).to_have_count(0)

    page.get_by_test_id("marketing-tabs").get_by_text("营销名单").click()
    page.get_by_test_id("prospect-state").click()
    page.locator(".el-select-dropdown__item", has_text="已约见").click()
    page.get_by_test_id("prospect-filters-submit").click()
    page.wait_for_url("**state=visit_scheduled**")
    listed = page.locator("[data-testid=prospect-table] tbody tr.el-table__row")
    expect(listed).to_have_count(1)
    listed.first.locator(f"[data-prospect='{prospect}']").click()
    expect(page.get_by_test_id("prospect-detail")).to_contain_text("约周四上午走访")

    r = platform.api("POST", "gm", "/api/marketing/campaigns", json={
        "name": "九月营销", "starts_on": platform.clock.today().isoformat(),
        "ends_on": (platform.clock.today() + timedelta(days=29)).isoformat(), "targets": []})
    assert r.status_code == 200, r.text
    page.keyboard.press("Escape")  # close the drawer
    expect(page.get_by_test_id("prospect-detail")).to_be_hidden()
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")
    sign_in(page, platform, mgr, at=f"/marketing/campaigns/{r.json()['id']}")
    page.wait_for_url(f"**/marketing/campaigns/{r.json()['id']}")
    expect(page.get_by_test_id("echart")).to_be_visible()
    funnel = page.get_by_test_id("funnel-table")
    expect(funnel.locator("[data-stage=interested]")).to_be_visible()
    expect(page.locator("[data-testid=leaderboard] tbody tr")).to_have_count(17)

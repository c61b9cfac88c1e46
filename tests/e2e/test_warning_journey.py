"""Issue 11's journey in a real browser (Debian's Chromium via Playwright) against the real
bank and the head-office simulator: a client manager handles a warning with "reduce limit",
head office receives it through the outbox and acknowledges it, the case shows the limit
action; a department manager reads the outcomes per rule as a chart, a client manager has no
such page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Platform, _user_id, sign_in, staff
from tests.integration.test_routes_by_role import add_warning

pytestmark = pytest.mark.e2e


def test_a_client_manager_reduces_the_limit_and_head_office_and_the_case_show_it(
        platform: Platform, page: Page) -> None:
    case = platform.drawn
    cm, mgr = staff(case)
    warning_id = add_warning(platform.installation, case,
                             assigned_to=_user_id(platform.installation, cm))
    sign_in(page, platform, cm)
    expect(page.locator("[data-menu='/warnings/labels']")).to_have_count(0)
    page.locator("[data-menu='/warnings']").click()
    page.locator(f"[data-handle='{warning_id}']").click()
    form = page.get_by_test_id("warning-form")
    form.locator("[data-kind=explained]").click()
    expect(form.locator("[data-action=reduce_limit] input")).to_be_disabled()  # explained: watch
    page.get_by_test_id("warning-outcome").fill("电话核实：主要科室停诊整改，收入难以恢复")
    form.locator("[data-kind=risk_confirmed]").click()
    form.locator("[data-action=reduce_limit]").click()
    page.get_by_test_id("warning-submit").click()
    expect(page.locator(f"[data-handle='{warning_id}']")).to_have_count(0)

    sent = [m for m in platform.world.head_office_inbox.messages.values()
            if m["infno"] == "8502"]
    assert sent == []  # only the dispatcher sends, after the commit
    assert platform.world.dispatcher.dispatch_due() >= 1
    (message,) = [m["input"]["data"][0] for m in platform.world.head_office_inbox.messages
                  .values() if m["infno"] == "8502"]
    assert (message["case_id"], message["action"], message["warning_id"]) == (
        case.id, "reduce_limit", warning_id)

    page.goto(f"{platform.url}/cases/{case.id}")
    current = page.get_by_test_id("limit-action-current")
    expect(current).to_have_attribute("data-action", "reduce_limit")
    expect(current).to_have_attribute("data-status", "acknowledged")
    expect(current).to_contain_text(f"WJL{warning_id:08d}")
    expect(page.locator("[data-testid=timeline] [data-event=limit_action_acknowledged]")
           ).to_have_count(1)

    page.context.clear_cookies()
    sign_in(page, platform, mgr)
    page.locator("[data-menu='/warnings/labels']").click()
    expect(page.get_by_test_id("labels-chart")).to_be_visible()
    expect(page.locator(f"[data-count='{'W01_DROP'}:risk_confirmed']")).to_have_text("1")


def test_the_handling_form_is_offered_only_to_whoever_may_handle_the_warning(
        platform: Platform, page: Page) -> None:
    case = platform.to_confirm  # its own warning (one per case, rule and period)
    cm, _ = staff(case)
    warning_id = add_warning(platform.installation, case,
                             assigned_to=_user_id(platform.installation, cm))
    sign_in(page, platform, "auditor", at="/warnings")
    expect(page.locator("[data-testid=warning-table] tbody tr").first).to_be_visible()
    expect(page.locator(f"[data-handle='{warning_id}']")).to_have_count(0)
    expect(page.locator("[data-menu='/warnings/labels']")).to_have_count(0)
    page.context.clear_cookies()
    sign_in(page, platform, cm, at="/warnings")
    expect(page.locator(f"[data-handle='{warning_id}']")).to_have_count(1)

"""The cases' own journeys in a real browser against the real bank (issue 10's pages): a client
manager attaches a licence photo and records an on-site value that differs from the bureau's;
the department manager sees the mismatch and lets it through with a reason; later, the branch
manager finds the overdue case, lifts the late sub-branch's penalty and reassigns the case to
another sub-branch, with the bell counting the escalations."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.conftest import Platform, sign_in, staff
from yibaodai.cases.sla_sweep import run_sweep
from yibaodai.db.models import CaseRow, FlowEventRow, OutboxRow

pytestmark = pytest.mark.e2e


def png_file(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x20\x80\x20" * 4 for _ in range(4))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def log_out(page: Page) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    page.wait_for_url("**/login**")


def test_a_client_manager_attaches_evidence_and_a_mismatch_that_the_manager_overrides(
        platform: Platform, page: Page, tmp_path: Path) -> None:
    case = platform.to_claim
    cm, mgr = staff(case)
    sign_in(page, platform, cm, at=f"/cases/{case.id}")
    page.wait_for_url(f"**/cases/{case.id}")
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "claimed")

    # a text file named like a photo is refused by its content, beside the upload
    fake = tmp_path / "营业执照.png"
    fake.write_text("not a picture", encoding="utf-8")
    page.get_by_test_id("attachment-input").set_input_files(str(fake))
    expect(page.get_by_test_id("attachment-error")).to_contain_text("JPG")
    photo = png_file(tmp_path / "营业执照照片.png")
    page.get_by_test_id("attachment-input").set_input_files(str(photo))
    listing = page.get_by_test_id("attachment-list")
    expect(listing.locator("[data-attachment='营业执照照片.png']")).to_be_visible()
    expect(listing).to_contain_text("image/png")

    form = page.get_by_test_id("verification-form")
    for box in form.locator("[data-check]").all():
        box.click()
    form.locator("[data-finding=name]").fill("大连某某大药房（招牌名称不同）")
    page.get_by_test_id("verification-submit").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "verified")
    mismatches = page.get_by_test_id("mismatches")
    expect(mismatches.locator("[data-mismatch=name]")).to_be_visible()
    expect(page.locator("[data-found=name][data-match=false]")).to_be_visible()
    expect(page.get_by_test_id("override")).to_have_count(0)  # not the client manager's
    log_out(page)

    sign_in(page, platform, mgr, at=f"/cases/{case.id}")
    page.wait_for_url(f"**/cases/{case.id}")
    expect(page.get_by_test_id("confirm")).to_have_count(0)  # blocked by the mismatch
    expect(page.get_by_test_id("attachment-list")).to_contain_text("营业执照照片.png")
    page.get_by_test_id("override").click()
    page.get_by_test_id("override-submit").click()  # no reason: refused beside the field
    expect(page.get_by_test_id("override-dialog")).to_contain_text("理由")
    page.get_by_test_id("override-reason").fill("招牌为简称，营业执照名称与医保登记一致")
    page.get_by_test_id("override-submit").click()
    expect(page.get_by_test_id("mismatches")).to_have_count(0)
    expect(page.get_by_test_id("confirm")).to_be_visible()
    expect(page.locator("[data-testid=timeline] [data-event=mismatch_override]")).to_have_count(1)


def test_the_branch_manager_lifts_a_late_sub_branchs_penalty_and_reassigns_its_overdue_case(
        platform: Platform, page: Page) -> None:
    installation = platform.installation
    with installation.bank.db.unit_of_work() as s:
        overdue = s.scalars(select(CaseRow).where(
            CaseRow.state == "assigned", CaseRow.id != platform.to_claim.id)
            .order_by(CaseRow.id)).first()
        assert overdue is not None
        s.expunge(overdue)
    platform.clock.advance(timedelta(days=5))  # past the claim deadline and a working day on
    with installation.bank.db.unit_of_work() as s:
        result = run_sweep(s, now=platform.clock.now())
        s.commit()
    assert result.breaches and result.escalations

    sign_in(page, platform, "gm")
    bell = page.get_by_test_id("bell")
    expect(bell).not_to_have_attribute("data-unread", "0")
    page.locator("[data-menu='/penalties']").click()
    table = page.get_by_test_id("penalty-table")
    row = table.locator("tr.el-table__row", has=page.locator(f"a[href='/cases/{overdue.id}']"))
    expect(row).to_contain_text("生效中")
    row.locator("[data-lift]").click()
    page.get_by_test_id("lift-reason").fill("支行已说明：系统培训期间人手不足，已整改")
    page.get_by_test_id("lift-submit").click()
    page.get_by_test_id("only-active").click()  # show the lifted ones too
    expect(row).to_contain_text("已解除")
    expect(row).to_contain_text("已整改")

    page.goto(f"{platform.url}/cases/{overdue.id}")
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "assigned")
    page.get_by_test_id("reassign").click()
    dialog = page.get_by_test_id("reassign-dialog")
    dialog.get_by_text("其他支行").click()
    dialog.get_by_test_id("reassign-sub-branch").click()
    target = page.locator(".el-select-dropdown:visible .el-select-dropdown__item").first
    target_name = target.inner_text()
    target.click()
    dialog.get_by_test_id("reassign-reason").fill("原支行超时未认领，改由邻近支行办理")
    dialog.get_by_test_id("reassign-submit").click()
    expect(page.locator("[data-testid=timeline] [data-event=reassigned]")).to_have_count(1)
    expect(page.locator(".case-head")).to_contain_text(target_name)
    moved = platform.api("GET", "gm", f"/api/cases/{overdue.id}").json()["case"]
    assert moved["sub_branch_code"] != overdue.sub_branch_code
    assert moved["state"] == "assigned" and not moved["overdue"]

    bell.click()
    page.wait_for_url("**/notifications")
    notices = page.get_by_test_id("notification-table")
    expect(notices.locator("[data-notice]").first).to_be_visible()
    expect(bell).not_to_have_attribute("data-unread", "0")
    page.get_by_test_id("read-all").click()
    expect(bell).to_have_attribute("data-unread", "0")
    expect(page.get_by_test_id("read-all")).to_be_disabled()
    page.reload()
    expect(notices.locator("[data-notice]").first).to_be_visible()
    expect(page.get_by_test_id("bell")).to_have_attribute("data-unread", "0")


def test_a_sub_branch_manager_hands_a_case_to_a_colleague_of_the_same_sub_branch(
        platform: Platform, page: Page) -> None:
    with platform.installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).where(
            CaseRow.state == "assigned", CaseRow.id != platform.to_claim.id)
            .order_by(CaseRow.id.desc())).first()
        assert case is not None
        s.expunge(case)
    cm, mgr = staff(case)
    colleague = f"{cm[:-2]}_2"
    sign_in(page, platform, mgr, at=f"/cases/{case.id}")
    page.wait_for_url(f"**/cases/{case.id}")
    page.get_by_test_id("reassign").click()
    dialog = page.get_by_test_id("reassign-dialog")
    expect(dialog.get_by_test_id("reassign-kind")).to_have_count(0)  # no other sub-branch
    dialog.get_by_test_id("reassign-submit").click()  # no reason: refused beside the field
    expect(dialog).to_contain_text("须包含可见文字")
    dialog.get_by_test_id("reassign-reason").fill("原客户经理休假，由同支行同事接手")
    dialog.get_by_test_id("reassign-submit").click()  # nobody chosen: refused beside it
    expect(dialog).to_contain_text("须指定目标支行或客户经理")
    dialog.get_by_test_id("reassign-manager").click()
    name = platform.installation.accounts[colleague].display_name
    page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                 has_text=name).click()
    dialog.get_by_test_id("reassign-submit").click()
    expect(page.locator("[data-testid=timeline] [data-event=reassigned]")).to_have_count(1)
    expect(page.locator(".case-head")).to_contain_text(name)


def test_the_branch_admin_retries_a_dead_message_and_a_dead_deferred_event_with_a_reason(
        platform: Platform, page: Page) -> None:
    """The outbox page: a dead message and, below it, a deferred event whose handler kept
    failing; each goes back to its queue through the one reason dialog."""
    now = platform.clock.now()
    with platform.installation.bank.db.unit_of_work() as s:
        message = OutboxRow(destination="bureau", kind="admission_result",
                            idempotency_key="e2e-dead", created_at=now, status="dead",
                            attempts=16, next_attempt_at=now, last_error="ConnectError: down",
                            payload={"fixmedins_code": "P21020200001"})
        event = FlowEventRow(event_type="ProfileChanged", event_key="e2e-dead-event",
                             handler="yibaodai.monitoring.handlers.watch_new_data",
                             payload={}, published_at=now, status="dead", attempts=5,
                             next_attempt_at=now, last_error="ValueError: monitoring bug")
        s.add_all([message, event])
        s.commit()
        message_id, event_id = message.id, event.id

    sign_in(page, platform, "admin", at="/outbox?status=dead")
    page.wait_for_url("**/outbox**")
    page.locator(f"[data-retry='{message_id}']").click()
    page.get_by_test_id("retry-submit").click()  # no reason: refused beside the field
    expect(page.get_by_test_id("retry-dialog")).to_contain_text("理由须包含可见文字")
    page.get_by_test_id("retry-reason").fill("医保局接口已恢复")
    page.get_by_test_id("retry-submit").click()
    expect(page.locator(f"[data-retry='{message_id}']")).to_have_count(0)

    events = page.get_by_test_id("event-table")
    row = events.locator("tr.el-table__row", has_text="monitoring bug")
    expect(row).to_contain_text("已停止重试")
    row.locator(f"[data-retry-event='{event_id}']").click()
    page.get_by_test_id("event-retry-reason").fill("监测程序已修复")
    page.get_by_test_id("event-retry-submit").click()
    expect(events.locator(f"[data-retry-event='{event_id}']")).to_have_count(0)
    with platform.installation.bank.db.unit_of_work() as s:
        assert s.get(OutboxRow, message_id).status == "pending"  # type: ignore[union-attr]
        again = s.get(FlowEventRow, event_id)
        assert again is not None and (again.status, again.attempts) == ("pending", 0)

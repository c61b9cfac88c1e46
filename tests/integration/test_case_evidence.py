"""Around the verification, over real HTTP with the real simulators: the holder's attachments
(type judged by the bytes, size limit, sha256, scope, audit), head office returning a
whitelist entry with its reasons (to the case and its client manager's inbox), and the
assignment reading the district from the address when the area code disagrees, and the
performance board's working hours and conversions (with its export)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import struct
import zlib
from datetime import datetime
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from yibaodai.cases.attachments import MAX_ATTACHMENT_BYTES
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuditRow,
    CaseEventRow,
    CaseRow,
    NotificationRow,
    SubBranchRow,
)
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.sim.server import ServerThread

CHECKLIST = dict.fromkeys(
    ("identity", "licence", "address", "settlement_account", "operating_status"), True)


def png(width: int = 2, height: int = 2) -> bytes:
    """A real, minimal PNG (what a phone camera's export starts with)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _case(installation: Installation) -> CaseRow:
    with installation.bank.db.unit_of_work() as s:
        case = s.scalars(select(CaseRow).order_by(CaseRow.id.desc())).first()
        assert case is not None
        s.expunge(case)
        return case


def test_the_holder_attaches_evidence_that_everyone_in_scope_reads_back(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        w.onboard(likely_admitted(city())[0])
        case = _case(installation)
        sub = case.sub_branch_code.lower()
        other = "dl002" if sub == "dl001" else "dl001"
        path = f"/api/cases/{case.id}/attachments"
        up = {"headers": {"Content-Type": "image/png"}}
        # before the claim nobody holds it
        r = w.api("POST", f"cm_{sub}_1", path, params={"filename": "执照.png"},
                  content=png(), **up)
        assert r.status_code == 403 and r.json()["code"] == "not_holder"
        assert w.api("POST", f"cm_{sub}_1", f"/api/cases/{case.id}/claim").status_code == 200
        refused = {
            "a colleague": (f"cm_{sub}_2", "执照.png", png(), 403, "not_holder"),
            "another sub-branch": (f"cm_{other}_1", "执照.png", png(), 404, "case_not_found"),
            "text named .png": ("", "执照.png", b"just some words", 422, "file_type"),
            "a png named .pdf": ("", "执照.pdf", png(), 422, "file_type_mismatch"),
            "empty": ("", "执照.png", b"", 422, "file_empty"),
            "an unknown item": ("", "执照.png", png(), 422, "unknown_item"),
            "too large": ("", "big.pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES, 422,
                          "file_too_large"),
        }
        for what, (user, name, data, status, code) in refused.items():
            params = {"filename": name} | ({"item": "nonsense"} if "item" in what else {})
            r = w.api("POST", user or f"cm_{sub}_1", path, params=params, content=data, **up)
            assert (r.status_code, r.json().get("code")) == (status, code), what
            if status == 422:
                assert r.json()["fields"][0]["field"] in ("file", "filename", "item"), what
        assert w.api("GET", f"mgr_{sub}", path).json()["items"] == []
        photo = png(3, 3)
        r = w.api("POST", f"cm_{sub}_1", path, params={"filename": "营业执照.png",
                                                       "item": "licence"}, content=photo, **up)
        assert r.status_code == 200, r.text
        added = r.json()
        assert (added["content_type"], added["size"], added["sha256"], added["item"]) == (
            "image/png", len(photo), hashlib.sha256(photo).hexdigest(), "licence")
        # the browser's type is not believed: a PDF sent as an image is stored as a PDF
        r = w.api("POST", f"cm_{sub}_1", path, params={"filename": "对账单.pdf"},
                  content=PDF, headers={"Content-Type": "image/jpeg"})
        assert r.status_code == 200 and r.json()["content_type"] == "application/pdf"
        listed = w.api("GET", f"mgr_{sub}", path).json()
        assert [a["filename"] for a in listed["items"]] == ["营业执照.png", "对账单.pdf"]
        got = w.api("GET", "gm", f"{path}/{added['id']}")
        assert got.status_code == 200 and got.content == photo
        assert got.headers["content-type"] == "image/png"
        assert w.api("GET", f"cm_{other}_1", f"{path}/{added['id']}").status_code == 404
        assert w.api("GET", f"cm_{other}_1", path).status_code == 404
        with installation.bank.db.unit_of_work() as s:
            actions = [a.action for a in s.scalars(select(AuditRow).where(
                AuditRow.target == f"case:{case.id}").order_by(AuditRow.id))]
            assert actions.count("case.attachment_added") == 2
            assert actions.count("case.attachment_downloaded") == 1
            events = s.scalars(select(CaseEventRow.event).where(
                CaseEventRow.case_id == case.id)).all()
            assert events.count("attachment_added") == 2
        timeline = w.api("GET", f"mgr_{sub}", f"/api/cases/{case.id}").json()["timeline"]
        assert any(t["event"] == "attachment_added" and "营业执照.png" in t["detail_zh"]
                   for t in timeline)


def test_head_office_returns_an_entry_above_its_cap_with_reasons_to_the_case_and_its_manager(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url, head_office_cap=Decimal("1000")) as w:
        w.onboard(likely_admitted(city())[0])
        case = _case(installation)
        w.confirm(case.id, case.sub_branch_code)
        w.dispatcher.dispatch_due()
        returned = _case(installation)
        assert returned.state == "ho_rejected" and returned.reported_at is None
        sub = case.sub_branch_code.lower()
        detail = w.api("GET", f"cm_{sub}_1", f"/api/cases/{case.id}").json()
        ho = detail["head_office"]
        assert ho["returned_at"] is not None and ho["limit_signed"] is None
        assert [r["code"] for r in ho["returned_reasons"]] == ["HO_CAP"]
        assert detail["case"]["state"] == "ho_rejected"
        assert any(t["event"] == "mark_ho_rejected" and "单户上限" in t["detail_zh"]
                   for t in detail["timeline"])
        inbox = w.api("GET", f"cm_{sub}_1", "/api/me/notifications").json()
        notice = next(n for n in inbox["items"] if n["kind"] == "ho_rejected")
        assert notice["case_id"] == case.id and "单户上限" in notice["message_zh"]
        assert inbox["unread"] >= 1
        read = w.api("POST", f"cm_{sub}_1", "/api/me/notifications/read",
                     json={"ids": [notice["id"]]})
        assert read.status_code == 200 and read.json()["unread"] == inbox["unread"] - 1
        # nobody else's notice can be marked from here
        assert w.api("POST", f"mgr_{sub}", "/api/me/notifications/read",
                     json={"ids": [notice["id"]]}).status_code == 200
        everything = w.api("POST", f"cm_{sub}_1", "/api/me/notifications/read",
                           json={"ids": None})
        assert everything.status_code == 200 and everything.json()["unread"] == 0
        again = w.api("GET", f"cm_{sub}_1", "/api/me/notifications").json()
        assert again["unread"] == 0 and all(n["read_at"] for n in again["items"])
        with installation.bank.db.unit_of_work() as s:
            row = s.get(NotificationRow, notice["id"])
            assert row is not None and row.read_at is not None
            assert s.scalars(select(AuditRow).where(
                AuditRow.action == "case.mark_ho_rejected")).first() is not None
        # the customer cannot draw on a returned entry; a second delivery changes nothing
        assert w.desk.draw_loans(share=1.0) == 0
        w.dispatcher.dispatch_due()
        assert _case(installation).state == "ho_rejected"


def test_an_address_that_disagrees_with_the_area_code_decides_the_district(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    target = next(code for code in ("210283", "210281", "210224") if code != inst.area_code)
    moved = dataclasses.replace(
        inst, addr=f"辽宁省大连市{DALIAN_DISTRICTS[target][0]}新华路１８号（海景大厦）B座")
    with world(installation, bank_server.url) as w:
        w.onboard(moved)
        case = _case(installation)
        with installation.bank.db.unit_of_work() as s:
            details = s.scalars(select(CaseEventRow.details).where(
                CaseEventRow.case_id == case.id, CaseEventRow.event == "assigned")).one()
            sub = s.get(SubBranchRow, case.sub_branch_code)
            assert sub is not None
            districts = list(sub.districts)
        assert details["district"] == target
        assert details["district_source"] == "address_over_code"
        assert details["area_code"] == inst.area_code and details["address_district"] == target
        assert details["measured_from"] == "institution"
        assert target in districts
        timeline = w.api("GET", "gm", f"/api/cases/{case.id}").json()["timeline"]
        assigned = next(t for t in timeline if t["event"] == "assigned")
        assert "登记地址与区划代码不符" in assigned["detail_zh"]


def test_the_board_measures_working_hours_across_the_spring_festival_and_the_conversions(
        installation: Installation, bank_server: ServerThread) -> None:
    with world(installation, bank_server.url) as w:
        for inst in likely_admitted(city())[:2]:
            w.onboard(inst)
    sh = SHANGHAI
    with installation.bank.db.unit_of_work() as s:
        a, b = s.scalars(select(CaseRow).order_by(CaseRow.id)).all()[:2]
        for case in (a, b):
            case.sub_branch_code = "DL001"
        # Fri 13 Feb 16:00 -> Tue 24 Feb 10:00: 1 h + make-up Saturday 8 h + 1 h = 10 h
        a.assigned_at, a.claimed_at = datetime(2026, 2, 13, 16, tzinfo=sh), datetime(
            2026, 2, 24, 10, tzinfo=sh)
        a.state = "claimed"
        # Tue 10 Feb 09:00 -> 11:00 (2 h) -> Wed 11 Feb 10:00 (6 h + 1 h = 7 h), drawn
        b.assigned_at, b.claimed_at = datetime(2026, 2, 10, 9, tzinfo=sh), datetime(
            2026, 2, 10, 11, tzinfo=sh)
        b.verified_at = datetime(2026, 2, 11, 10, tzinfo=sh)
        b.reported_at, b.state = datetime(2026, 2, 12, 10, tzinfo=sh), "drawn"
        s.commit()
    period = {"assigned_from": "2026-02-01", "assigned_to": "2026-02-28"}
    r = w.api("GET", "gm", "/api/performance", params=period)
    row = next(i for i in r.json()["items"] if i["sub_branch_code"] == "DL001")
    assert (row["assigned"], row["claimed"], row["reported"], row["drawn"]) == (2, 2, 1, 1)
    assert row["median_hours_to_claim"] == 6.0          # (2 + 10) / 2
    assert row["p90_hours_to_claim"] == 9.2             # 2 + 0.9 x (10 - 2)
    assert row["median_hours_to_verify"] == row["p90_hours_to_verify"] == 7.0
    assert (row["conversion_reported"], row["conversion_reported_drawn"],
            row["conversion"]) == (0.5, 1.0, 0.5)
    sheet = load_workbook(io.BytesIO(w.api("GET", "gm", "/api/performance/export.xlsx",
                                           params=period).content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h or "") for h in rows[2]]
    column = next(n for n, h in enumerate(header) if h.startswith("认领用时90分位（工作小时）"))
    dl001 = next(r for r in rows if r and r[0] == "DL001")
    assert dl001[column] == 9.2

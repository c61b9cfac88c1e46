"""Exports read back as bank staff would open them: XLSX with openpyxl (amounts are numbers in
``#,##0.00``, dates are dates, the header frozen and filtered, A4 landscape with repeated
titles, the page footer and the watermark), CSV with a byte-order mark; the rows are the list's
rows under the same filters, and every export is in the audit log."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import make_world
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import AuditRow
from yibaodai.sim.server import ServerThread


def test_the_case_list_exports_to_excel_with_numbers_dates_and_print_settings(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    cm = w.clients["client_manager"]
    listing = cm.get("/api/cases", params={"sort": "-credit_limit", "page_size": 200}).json()
    r = cm.get("/api/cases/export.xlsx", params={"sort": "-credit_limit"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''cases-" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    me = cm.get("/api/me").json()
    assert me["watermark"]["text"] in str(ws["A1"].value)
    assert me["watermark"]["text"] in ws.oddHeader.right.text
    assert ws.oddFooter.center.text == "第&P页，共&N页"
    headers = [c.value for c in ws[3]]
    assert "授信额度（元） Credit limit (yuan)" in headers
    assert ws.freeze_panes == "A4"
    last_column = ws.cell(3, len(headers)).column_letter
    assert ws.auto_filter.ref == f"A3:{last_column}{3 + len(listing['items'])}"
    assert ws.print_title_rows.replace("$", "") == "1:3"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == listing["total"]
    limit_col = headers.index("授信额度（元） Credit limit (yuan)")
    assigned_col = headers.index("分配时间 Assigned at")
    for row, item in zip(rows, listing["items"], strict=True):
        assert row[0] == item["id"]
        assert isinstance(row[limit_col], int | float)  # a number, never text
        assert Decimal(str(row[limit_col])).quantize(Decimal("0.01")) == Decimal(
            item["credit_limit"])
        assert isinstance(row[assigned_col], datetime)
        assert row[assigned_col] == datetime.fromisoformat(item["assigned_at"]).replace(
            tzinfo=None)
    cell = ws.cell(4, limit_col + 1)
    assert cell.number_format == "#,##0.00" and cell.data_type == "n"
    with installation.bank.db.unit_of_work() as s:
        (entry,) = s.scalars(select(AuditRow).where(AuditRow.action == "export"))
        assert entry.actor == w.users["client_manager"] and entry.target == "list:cases"
        assert entry.details == {"format": "xlsx", "filters": {"sort": "-credit_limit"},
                                 "rows": listing["total"]}
    w.close()


def test_csv_exports_carry_a_bom_and_the_rows_of_the_current_filters(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    gm = w.clients["branch_manager"]
    params = {"sub_branch": w.own}
    listing = gm.get("/api/cases", params=params).json()
    r = gm.get("/api/cases/export.csv", params=params)
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][0] == "案件号 Case" and len(table) - 1 == listing["total"] < 17
    assert {row[6] for row in table[1:]} == {listing["items"][0]["sub_branch_name_zh"]}
    limits = [row[9] for row in table[1:]]
    assert all(Decimal(x) > 0 and "," not in x for x in limits)
    warnings = gm.get("/api/warnings/export.csv").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(warnings)))) == 1 + 2
    auditor = w.clients["auditor"]
    audit_csv = auditor.get("/api/audit/export.csv", params={"action": "export"})
    logged = list(csv.reader(io.StringIO(audit_csv.content.decode("utf-8-sig"))))
    assert [row[2] for row in logged[1:]] == ["gm", "gm"]  # the exports above, newest first
    board = auditor.get("/api/performance/export.xlsx")
    assert load_workbook(io.BytesIO(board.content)).active.max_row == 3 + 17
    assert w.clients["branch_admin"].get("/api/audit/export.csv").status_code == 403
    bad = gm.get("/api/cases/export.xlsx", params={"due_to": "soon"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "due_to"
    w.close()

"""Workbench reports as Excel workbooks (XlsxWriter), the way bank staff keep them.

Every report (build, validation, back-test, monitoring, benchmark) gives its JSON form and a
list of ``Sheet``s drawn from that same JSON, so the workbook and a page show the same numbers.
Each sheet: a title row, bilingual headers, numbers as numbers (rates as percentages, amounts
``#,##0.00``) so SUM and filters work, a frozen header with an autofilter, A4 landscape with
repeated header rows and a "第&P页，共&N页" footer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import xlsxwriter

Kind = Literal["text", "int", "float", "rate", "yuan"]
_FORMATS: dict[Kind, dict[str, Any]] = {
    "text": {}, "int": {"num_format": "#,##0"}, "float": {"num_format": "0.0000"},
    "rate": {"num_format": "0.00%"}, "yuan": {"num_format": "#,##0.00"}}
_WIDTH = {"text": 24, "int": 12, "float": 12, "rate": 12, "yuan": 16}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]


def _cell(value: Any, kind: Kind) -> Any:
    if value is None:
        return ""
    if kind == "text":
        return value if isinstance(value, str) else str(value)
    return float(value) if kind in ("float", "rate", "yuan") else int(value)


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                            "text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 13})
    formats = {k: book.add_format(v) for k, v in _FORMATS.items()}
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        ws.write(0, 0, sheet.title, title)
        for c, col in enumerate(sheet.columns):
            ws.write(1, c, col.header, head)
            ws.set_column(c, c, _WIDTH[col.kind])
        for r, row in enumerate(sheet.rows, start=2):
            for c, col in enumerate(sheet.columns):
                ws.write(r, c, _cell(row.get(col.key), col.kind), formats[col.kind])
        last = max(1, len(sheet.rows) + 1)
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, last, max(0, len(sheet.columns) - 1))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.repeat_rows(1)
        ws.fit_to_pages(1, 0)
        ws.set_footer("&C第&P页，共&N页")
    book.close()
    return path

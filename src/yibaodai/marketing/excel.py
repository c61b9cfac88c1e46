"""Excel workbooks the way bank staff expect them (XlsxWriter): numbers as numbers (amounts
``#,##0.00``), dates as real dates, a frozen header with an autofilter, A4 landscape with the
header row repeated on every page, "第&P页，共&N页" in the footer, and the name of whoever
produced it with "请勿外传" in the page header of sheets that show customer data.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import xlsxwriter

Kind = Literal["text", "int", "date", "datetime", "money", "ratio"]
_NUMBER_FORMATS: dict[Kind, str] = {"int": "0", "date": "yyyy-mm-dd",
                                    "datetime": "yyyy-mm-dd hh:mm", "money": "#,##0.00",
                                    "ratio": "0.0%", "text": "@"}


@dataclass(frozen=True)
class XlsxColumn:
    title: str
    width: float
    kind: Kind = "text"


@dataclass(frozen=True)
class XlsxSheet:
    name: str
    title: str
    columns: Sequence[XlsxColumn]
    rows: Iterable[Sequence[Any]]
    confidential: bool = False


def workbook(sheets: Sequence[XlsxSheet], *, produced_by: str, produced_at: datetime) -> bytes:
    """The sheets as one .xlsx file, in memory."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                            "text_wrap": True, "valign": "vcenter"})
    caption = book.add_format({"bold": True, "font_size": 14})
    formats = {kind: book.add_format({"num_format": fmt}) for kind, fmt in
               _NUMBER_FORMATS.items()}
    for spec in sheets:
        ws = book.add_worksheet(spec.name[:31])
        ws.write(0, 0, spec.title, caption)
        ws.write(1, 0, f"制表：{produced_by}    制表时间：{produced_at:%Y-%m-%d %H:%M}")
        for c, column in enumerate(spec.columns):
            ws.set_column(c, c, column.width)
            ws.write(2, c, column.title, head)
        r = 3
        for row in spec.rows:
            for c, (column, value) in enumerate(zip(spec.columns, row, strict=True)):
                _write(ws, r, c, column.kind, value, formats)
            r += 1
        last = max(len(spec.columns) - 1, 0)
        ws.freeze_panes(3, 0)
        ws.autofilter(2, 0, max(r - 1, 2), last)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.repeat_rows(2)
        ws.fit_to_pages(1, 0)
        ws.set_footer("&C第&P页，共&N页")
        if spec.confidential:
            ws.set_header(f"&L{spec.title}&R{produced_by} {produced_at:%Y-%m-%d} 请勿外传")
    book.close()
    return out.getvalue()


def _write(ws: Any, r: int, c: int, kind: Kind, value: Any, formats: dict[Kind, Any]) -> None:
    if value is None or value == "":
        ws.write_blank(r, c, None)
    elif kind in ("date", "datetime") and isinstance(value, date):
        ws.write_datetime(r, c, value, formats[kind])
    elif kind in ("int", "money", "ratio") and isinstance(value, int | float | Decimal):
        ws.write_number(r, c, float(value), formats[kind])
    else:
        ws.write_string(r, c, str(value), formats["text"])

"""Exports of any list, one module for all: XLSX written by XlsxWriter in constant-memory mode
(rows streamed to disk, so size does not grow memory) and CSV in UTF-8 with a byte-order mark
(Chinese Excel opens it right). Amounts are numbers formatted ``#,##0.00`` with the unit in the
header, dates are dates, the header row is frozen and filtered, pages are A4 landscape with the
title rows repeated, the watermark (name, staff number, date, 请勿外传) in the title and the
page header, and ``第&P页，共&N页`` in the footer. Every export is audited (who, which list,
filters, rows) in the same transaction that answers it."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import xlsxwriter
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor
from yibaodai.clock import SHANGHAI
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.web.context import AppContext

MAX_ROWS = 100_000
Format = Literal["xlsx", "csv"]
Kind = Literal["text", "money", "date", "datetime", "int", "ratio", "bool", "decimal1"]
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Column:
    key: str
    header_zh: str
    header_en: str
    kind: Kind = "text"
    width: int = 14

    @property
    def header(self) -> str:
        unit = {"money": ("（元）", " (yuan)"), "ratio": ("（%）", " (%)")}.get(self.kind, ("", ""))
        return f"{self.header_zh}{unit[0]} {self.header_en}{unit[1]}"


@dataclass(frozen=True)
class ExportSpec:
    """What one list exports: its name (for the audit and the file), title and columns."""

    name: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]


def _local(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def _too_many() -> ValidationFailed:
    return ValidationFailed(f"导出超过{MAX_ROWS:,}行，请缩小筛选范围",
                            f"more than {MAX_ROWS:,} rows; narrow the filters",
                            code="too_many_rows",
                            fields=[FieldError("filters", "结果过多", "too many rows")])


def write_xlsx(path: str, spec: ExportSpec, rows: Iterable[Mapping[str, Any]], *,
               watermark: str, filters_text: str) -> int:
    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    try:
        ws = wb.add_worksheet(spec.title_zh[:31])
        title = wb.add_format({"bold": True, "font_size": 14})
        note = wb.add_format({"font_color": "#888888"})
        head = wb.add_format({"bold": True, "bg_color": "#EEF3FA", "border": 1,
                              "text_wrap": True, "valign": "top"})
        formats = {"money": wb.add_format({"num_format": "#,##0.00"}),
                   "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
                   "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
                   "int": wb.add_format({"num_format": "0"}),
                   "decimal1": wb.add_format({"num_format": "0.0"}),
                   "ratio": wb.add_format({"num_format": "0.00%"})}
        cols = spec.columns
        for n, c in enumerate(cols):
            ws.set_column(n, n, c.width)
        ws.write_string(0, 0, f"{spec.title_zh} {spec.title_en}  {watermark}", title)
        ws.write_string(1, 0, filters_text, note)
        for n, c in enumerate(cols):
            ws.write_string(2, n, c.header, head)
        count = 0
        for count, row in enumerate(rows, start=1):
            if count > MAX_ROWS:
                raise _too_many()
            r = 2 + count
            for n, c in enumerate(cols):
                _cell(ws, r, n, c.kind, row.get(c.key), formats)
        last = 2 + max(count, 1)
        ws.freeze_panes(3, 0)
        ws.autofilter(2, 0, last, len(cols) - 1)
        ws.repeat_rows(0, 2)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L{spec.title_zh}&R{watermark}")
        ws.set_footer("&C第&P页，共&N页")
    finally:
        wb.close()
    return count


def _cell(ws: Any, r: int, n: int, kind: Kind, value: Any, formats: dict[str, Any]) -> None:
    if value is None or value == "":
        ws.write_blank(r, n, None)
    elif kind == "money":
        ws.write_number(r, n, float(Decimal(str(value))), formats["money"])
    elif kind == "ratio":
        ws.write_number(r, n, float(value), formats["ratio"])
    elif kind == "int":
        ws.write_number(r, n, int(value), formats["int"])
    elif kind == "decimal1":  # a measure such as hours, one decimal shown
        ws.write_number(r, n, float(value), formats["decimal1"])
    elif kind == "datetime" and isinstance(value, datetime):
        ws.write_datetime(r, n, _local(value), formats["datetime"])
    elif kind == "date" and isinstance(value, date):
        ws.write_datetime(r, n, datetime.combine(value, datetime.min.time()), formats["date"])
    elif kind == "bool":
        ws.write_string(r, n, "是" if value else "否")
    else:
        ws.write_string(r, n, str(value))


def _csv_value(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(str(value)):.2f}"
    if kind == "datetime" and isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "ratio":
        return f"{float(value) * 100:.2f}"
    if kind == "bool":
        return "是" if value else "否"
    return str(value)


def write_csv(path: str, spec: ExportSpec, rows: Iterable[Mapping[str, Any]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([c.header for c in spec.columns])
        for count, row in enumerate(rows, start=1):
            if count > MAX_ROWS:
                raise _too_many()
            out.writerow([_csv_value(c.kind, row.get(c.key)) for c in spec.columns])
    return count


def watermark_text(actor: Actor, today: date) -> str:
    """Name, staff number, date and 请勿外传: on every screen and export with customer data."""
    return f"{actor.display_name} {actor.staff_no} {today.isoformat()} 请勿外传"


def export_list(session: Session, ctx: AppContext, *, actor: Actor, spec: ExportSpec,
                fmt: Format, rows: Iterable[Mapping[str, Any]],
                filters: Mapping[str, str]) -> FileResponse:
    """``export`` at the context's time, with the actor's watermark."""
    return export(session, actor=actor, spec=spec, fmt=fmt, rows=rows, filters=filters,
                  watermark=watermark_text(actor, ctx.clock.today()), now=ctx.clock.now())


def export(session: Session, *, actor: Actor, spec: ExportSpec, fmt: Format,
           rows: Iterable[Mapping[str, Any]], filters: Mapping[str, str], watermark: str,
           now: datetime) -> FileResponse:
    """Write the file, audit the export, commit, answer the file (deleted once sent)."""
    fd, path = tempfile.mkstemp(suffix=f".{fmt}", prefix="yb-export-")
    os.close(fd)
    try:
        filters_text = "筛选 filters: " + ("; ".join(f"{k}={v}" for k, v in filters.items())
                                         or "—")
        count = (write_xlsx(path, spec, rows, watermark=watermark, filters_text=filters_text)
                 if fmt == "xlsx" else write_csv(path, spec, rows))
        audit(session, at=now, actor=actor.username, action="export",
              target=f"list:{spec.name}",
              details={"format": fmt, "filters": dict(filters), "rows": count})
        session.commit()
    except BaseException:
        os.unlink(path)
        raise
    filename = f"{spec.name}-{now:%Y%m%d-%H%M}.{fmt}"
    return FileResponse(path, media_type=MEDIA[fmt], background=BackgroundTask(os.unlink, path),
                        headers={"Content-Disposition":
                                 f"attachment; filename*=UTF-8''{quote(filename)}"})

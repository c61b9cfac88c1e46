"""Reading a list file into rows of cell values: .xlsx through openpyxl, .csv in UTF-8 (with or
without BOM) or GB18030 (what Chinese Excel writes), comma, tab or semicolon separated.

Merged cells are filled with their top-left value (a district merged over a block of rows
belongs to every row of the block). A file that cannot be read at all raises
``ValidationFailed(code="list_unreadable")`` saying why; nothing has been written by then.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Final

from yibaodai.domain.marketing.fields import CellValue
from yibaodai.errors import FieldError, ValidationFailed

MAX_BYTES: Final = 50 * 1024 * 1024
_XLSX_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"  # the old binary .xls


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[CellValue]]  # rows[i] is sheet row i + 1


def unreadable(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(message_zh=f"无法读取名单文件：{zh}",
                            message_en=f"cannot read the list file: {en}",
                            code="list_unreadable",
                            fields=[FieldError("file", f"无法读取名单文件：{zh}",
                                               f"cannot read the list file: {en}")])


def _cell(value: object) -> CellValue:
    if isinstance(value, datetime | date | str | int | float) or value is None:
        return value
    if isinstance(value, time):  # a time-only cell: no date in it
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise unreadable("不是有效的xlsx文件（可能已损坏或加密）",
                         f"not a valid .xlsx file (damaged or encrypted?): {exc}") from exc
    sheets = []
    for ws in book.worksheets:
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(min_row=1, min_col=1,
                                                              values_only=True)]
        for merged in ws.merged_cells.ranges:
            top = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(
                rows) else None
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                line = rows[r]
                for c in range(merged.min_col - 1, min(merged.max_col, len(line))):
                    line[c] = top
        sheets.append(Sheet(ws.title, rows))
    book.close()
    return sheets


def _read_csv(data: bytes) -> Sheet:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string that reaches here
        raise unreadable("文本编码无法识别", "unknown text encoding")
    if "\x00" in text:
        raise unreadable("不是文本文件", "not a text file")
    sample = text[:20000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows: list[list[CellValue]] = [list(r) for r in csv.reader(io.StringIO(text),
                                                                   dialect)]
    except csv.Error as exc:
        raise unreadable(f"CSV格式错误：{exc}", f"malformed CSV: {exc}") from exc
    return Sheet("csv", rows)


def read_list(data: bytes, *, filename: str) -> list[Sheet]:
    """The sheets of a list file (a CSV is one sheet). The format is told by the content
    (an .xlsx is a zip), not trusted from the name."""
    if not data:
        raise unreadable("文件为空", "the file is empty")
    if len(data) > MAX_BYTES:
        raise unreadable("文件超过50MB", "the file is larger than 50 MB")
    if data.startswith(_OLE_MAGIC):
        raise unreadable("这是旧版Excel（.xls）文件，请在Excel中另存为.xlsx后再导入",
                         "this is an old Excel (.xls) file; save it as .xlsx and import again")
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if PurePath(filename).suffix.lower() in (".xlsx", ".xlsm"):
        raise unreadable("扩展名为.xlsx但内容不是Excel文件",
                         "the name says .xlsx but the content is not an Excel file")
    return [_read_csv(data)]

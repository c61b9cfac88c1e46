"""Finding the table inside a sheet as real lists come: a title row (often merged), lines of
notes, a group header above the column names, a hint line under them, blank lines, repeated
headers at page breaks, a total line and remarks at the end.

The header row is recognised by its column names (with their usual synonyms), not by its
position; data rows are the rows after it that are none of the above. Pure functions over
rows of already-read cell values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from yibaodai.domain.marketing.fields import CellValue, compact


class Column(StrEnum):
    """The fields of the list the import understands."""

    NAME = "name"
    USCC = "uscc"
    CODE = "fixmedins_code"
    ADDRESS = "address"
    PHONE = "phone"
    CONTACT = "contact"
    KIND = "kind"
    DISTRICT = "district"
    DESIGNATED_ON = "designated_on"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"
    SEQ = "seq"  # 序号: recognised (it helps find the header) and ignored


SYNONYMS: Final[dict[Column, tuple[str, ...]]] = {
    Column.NAME: ("机构名称", "定点机构名称", "定点医药机构名称", "医药机构名称", "单位名称",
                  "机构全称", "企业名称", "药店名称", "名称", "fixmedins_name"),
    Column.USCC: ("统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码",
                  "社会统一信用代码", "uscc"),
    Column.CODE: ("医保编码", "定点医药机构编号", "定点医药机构编码", "定点机构编码",
                  "定点机构编号",
                  "医保机构编码", "医药机构编码", "机构编码", "机构编号", "医保编号",
                  "fixmedins_code"),
    Column.ADDRESS: ("地址", "经营地址", "机构地址", "详细地址", "注册地址", "单位地址",
                     "实际经营地址", "addr"),
    Column.PHONE: ("电话", "联系电话", "联系方式", "手机", "手机号", "手机号码", "联系人电话",
                   "办公电话", "固定电话", "tel"),
    Column.CONTACT: ("联系人", "负责人", "联系人姓名", "负责人姓名"),
    Column.KIND: ("类型", "机构类型", "机构类别", "定点类型", "医药机构类别", "医药机构类型"),
    Column.DISTRICT: ("区县", "所属区域", "所属区县", "所在区县", "区域", "行政区划", "辖区",
                      "所属辖区"),
    Column.DESIGNATED_ON: ("定点日期", "定点时间", "定点开始日期", "协议签订日期", "签约日期",
                           "纳入定点日期"),
    Column.LATITUDE: ("纬度", "latitude"),
    Column.LONGITUDE: ("经度", "longitude"),
    Column.SEQ: ("序号", "no", "no."),
}

_HINT = re.compile(r"[(\[【][^)\]】]*[)\]】]")  # 机构名称（必填） -> 机构名称
_BY_NAME: Final[dict[str, Column]] = {
    name.lower(): column for column, names in SYNONYMS.items() for name in names}
_TOTAL = ("合计", "总计", "小计", "共计", "总数")
_NOTE = re.compile(r"^(注|说明|备注|填表说明|制表|制表人|制表单位|制表日期|填报|填报单位|审核|"
                   r"数据来源|数据日期|统计日期|截至|打印)")
HEADER_SEARCH_ROWS: Final = 30


def column_of(value: CellValue) -> Column | None:
    """The field a header cell names: NFKC, spaces, asterisks and bracketed hints removed."""
    text = _HINT.sub("", compact(value)).strip("*※:：").lower()
    return _BY_NAME.get(text)


def recognise(row: Sequence[CellValue]) -> dict[Column, list[int]]:
    """Which columns of ``row`` name which field (a field may have several columns: 电话 and
    手机; merged header cells repeat one name, which counts once)."""
    found: dict[Column, list[int]] = {}
    seen: set[str] = set()
    for index, value in enumerate(row):
        column = column_of(value)
        text = compact(value)
        if column is None or text in seen:
            continue
        seen.add(text)
        found.setdefault(column, []).append(index)
    return found


@dataclass(frozen=True)
class Layout:
    """Where the table is: the header rows (0-based indexes into the rows given) and the
    column indexes of each field."""

    header_rows: tuple[int, ...]
    columns: dict[Column, tuple[int, ...]]

    @property
    def first_data_row(self) -> int:
        return self.header_rows[-1] + 1


def _non_empty(row: Sequence[CellValue]) -> list[str]:
    return [t for t in (compact(v) for v in row) if t]


def _is_numbering(row: Sequence[CellValue]) -> bool:
    """A line of column numbers under the header: 1, 2, 3, ... (or （1）, （2）, ...)."""
    texts = [t.strip("()") for t in _non_empty(row)]
    return len(texts) >= 3 and texts == [str(n) for n in range(1, len(texts) + 1)]


def _is_hint(row: Sequence[CellValue]) -> bool:
    """A line of hints under the header: every cell bracketed (（必填）) or an example."""
    texts = _non_empty(row)
    return bool(texts) and all(_HINT.fullmatch(t) or t.startswith(("例", "如:", "示例"))
                               for t in texts)


def find_layout(rows: Sequence[Sequence[CellValue]]) -> Layout | None:
    """The header: among the first rows, the one naming most fields (it must name the
    institution's name); a line just above or below it that names further fields in other
    columns, within the header's width, is part of a two-line header. A numbering or hint
    line right under the header is also skipped. None when no row names the institution's
    name column."""
    best, best_found = -1, dict[Column, list[int]]()
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = recognise(row)
        if Column.NAME in found and len(found) > len(best_found):
            best, best_found = index, found
    if best < 0:
        return None
    header = [best]
    columns = {k: list(v) for k, v in best_found.items()}
    taken = {i for v in columns.values() for i in v}
    width = max((i + 1 for i, v in enumerate(rows[best]) if compact(v)), default=0)
    for neighbour in (best - 1, best + 1):
        if not 0 <= neighbour < len(rows):
            continue
        extra = {k: [i for i in v if i not in taken and i < width]
                 for k, v in recognise(rows[neighbour]).items() if k not in columns}
        extra = {k: v for k, v in extra.items() if v}
        if extra:
            header.append(neighbour)
            columns.update(extra)
            taken.update(i for v in extra.values() for i in v)
    header.sort()
    while header[-1] + 1 < len(rows) and (_is_numbering(rows[header[-1] + 1])
                                          or _is_hint(rows[header[-1] + 1])):
        header.append(header[-1] + 1)
    return Layout(tuple(header), {k: tuple(v) for k, v in columns.items()})


class RowKind(StrEnum):
    DATA = "data"
    BLANK = "blank"
    TOTAL = "total"
    HEADER = "header"  # a header repeated at a page break
    NOTE = "note"      # remarks: 注：…, 制表人：…


def classify(texts: Sequence[str], layout: Layout) -> RowKind:
    """What a row after the header is, from its cells as ``cell_text`` gives them. Only DATA
    rows count as rows read."""
    filled = [t.replace(" ", "") for t in texts if t]
    if not filled:
        return RowKind.BLANK
    if filled[0].startswith(_TOTAL):
        return RowKind.TOTAL
    names = [texts[i] for i in layout.columns.get(Column.NAME, ()) if i < len(texts)]
    if any(v.replace(" ", "").startswith(_TOTAL) for v in names):
        return RowKind.TOTAL
    if any(column_of(v) is Column.NAME for v in names) and len(recognise(texts)) >= 2:
        return RowKind.HEADER
    if len(set(filled)) == 1 and _NOTE.match(filled[0]):
        return RowKind.NOTE
    return RowKind.DATA

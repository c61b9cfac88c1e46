"""From the cells of a sheet to the list's institutions: each data row parsed field by field,
with a warning for every value that was dropped and a refusal for every row that cannot be a
prospect. A bad row never stops the others; every issue carries the sheet row number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from yibaodai.domain.codes import DALIAN_DISTRICTS, institution_code_area
from yibaodai.domain.marketing.fields import (
    CellValue,
    Problem,
    cell_text,
    district_in_address,
    other_city_in_address,
    parse_coordinate,
    parse_date,
    parse_district,
    parse_institution_code,
    parse_kind,
    parse_phones,
    parse_uscc,
)
from yibaodai.domain.marketing.layout import Column, Layout, RowKind, classify
from yibaodai.domain.organisation import LATITUDE_RANGE, LONGITUDE_RANGE

T = TypeVar("T")

NAME_MAX = 200
ADDRESS_MAX = 300
CONTACT_MAX = 50


@dataclass(frozen=True)
class RowIssue:
    """A refusal or a warning about one sheet row (1-based, as Excel shows it)."""

    row: int
    field: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "code": self.code,
                "reason": f"{self.message_zh} / {self.message_en}"}


@dataclass(frozen=True)
class ListRow:
    """One institution as one row of the list gives it, cleaned."""

    row: int
    name: str
    district: str
    fixmedins_code: str | None = None
    uscc: str | None = None
    address: str | None = None
    phones: tuple[str, ...] = ()
    contact: str | None = None
    kind: str | None = None
    kind_text: str | None = None
    designated_on: date | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class ParsedTable:
    rows: list[ListRow] = field(default_factory=list)
    refused: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # blank, total, header, note lines


class _Cells:
    """One row's cells: raw values (dates, numbers) and their clean texts, by field."""

    def __init__(self, row: Sequence[CellValue], texts: Sequence[str], layout: Layout) -> None:
        self.row, self.texts, self.layout = row, texts, layout

    def _index(self, column: Column) -> int | None:
        texts = self.texts
        for i in self.layout.columns.get(column, ()):
            if i < len(texts) and texts[i]:
                return i
        return None

    def raw(self, column: Column) -> CellValue:
        i = self._index(column)
        return None if i is None else self.row[i]

    def text(self, column: Column) -> str:
        i = self._index(column)
        return "" if i is None else self.texts[i]

    def every_text(self, column: Column) -> str:
        """All of a field's columns (电话 and 手机), joined as one list."""
        return "/".join(self.texts[i] for i in self.layout.columns.get(column, ())
                        if i < len(self.texts) and self.texts[i])


def _issue(number: int, column: Column, problem: Problem) -> RowIssue:
    return RowIssue(number, column.value, problem.code, problem.message_zh, problem.message_en)


def _district(cells: _Cells, *, code: str | None, uscc: str | None,
              address: str | None) -> str | None:
    """Where the institution is: the district column, else the address, else the area in
    its institution code, else the area in its USCC."""
    found = parse_district(cells.text(Column.DISTRICT))
    if found:
        return found
    if address and (found := district_in_address(address)):
        return found
    for area in (institution_code_area(code) if code else None, uscc[2:8] if uscc else None):
        if area in DALIAN_DISTRICTS:
            return area
    return None


def parse_row(number: int, row: Sequence[CellValue], layout: Layout,
              texts: Sequence[str] | None = None) -> tuple[ListRow | None, list[RowIssue]]:
    """The row as a ``ListRow`` and its warnings, or None and the refusal first. ``texts`` are
    the row's cells through ``cell_text`` (computed here when not given)."""
    cells = _Cells(row, texts if texts is not None else [cell_text(v) for v in row], layout)
    warnings: list[RowIssue] = []

    def keep(column: Column, value: T | Problem | None) -> T | None:
        if isinstance(value, Problem):
            warnings.append(_issue(number, column, value))
            return None
        return value

    name = cells.text(Column.NAME)[:NAME_MAX]
    code = keep(Column.CODE, parse_institution_code(cells.text(Column.CODE)))
    uscc_text = cells.text(Column.USCC)
    uscc = keep(Column.USCC, parse_uscc(uscc_text))
    if not uscc_text:
        warnings.append(RowIssue(number, Column.USCC.value, "uscc_missing",
                                 "统一社会信用代码缺失", "USCC missing"))
    address = cells.text(Column.ADDRESS)[:ADDRESS_MAX] or None
    if not name:
        return None, [RowIssue(number, Column.NAME.value, "name_missing", "机构名称为空",
                               "the institution's name is empty"), *warnings]
    district = _district(cells, code=code, uscc=uscc, address=address)
    if district is None:
        elsewhere = other_city_in_address(address or "")
        zh, en = (f"地址在{elsewhere}，不属于大连市", f"the address is in {elsewhere}, not Dalian"
                  ) if elsewhere else (
            "无法确定所属区县：区县列、地址、医保编码和信用代码都未指明大连市的区县",
            "cannot tell the district: neither the district column, the address, the "
            "institution code nor the USCC names a Dalian district")
        return None, [RowIssue(number, Column.DISTRICT.value, "district_unknown", zh, en),
                      *warnings]
    phones = parse_phones(cells.every_text(Column.PHONE))
    for piece in phones.unreadable:
        warnings.append(RowIssue(number, Column.PHONE.value, "invalid_phone",
                                 f"电话“{piece}”无法识别，已忽略",
                                 f"phone {piece!r} is not a phone number; ignored"))
    designated = keep(Column.DESIGNATED_ON, parse_date(cells.raw(Column.DESIGNATED_ON)))
    kind_text = cells.text(Column.KIND)
    lat = parse_coordinate(cells.text(Column.LATITUDE), low=LATITUDE_RANGE[0],
                           high=LATITUDE_RANGE[1])
    lon = parse_coordinate(cells.text(Column.LONGITUDE), low=LONGITUDE_RANGE[0],
                           high=LONGITUDE_RANGE[1])
    if (lat is None) != (lon is None) or (lat is None and cells.text(Column.LATITUDE)):
        warnings.append(RowIssue(number, Column.LATITUDE.value, "invalid_coordinates",
                                 "经纬度缺失或不在大连范围内，已忽略",
                                 "coordinates missing or outside Dalian; ignored"))
        lat = lon = None
    return ListRow(
        row=number, name=name, district=district, fixmedins_code=code, uscc=uscc,
        address=address, phones=phones.phones,
        contact=cells.text(Column.CONTACT)[:CONTACT_MAX] or None,
        kind=parse_kind(kind_text, name=name), kind_text=kind_text[:50] or None,
        designated_on=designated, latitude=lat, longitude=lon), warnings


def parse_table(rows: Sequence[Sequence[CellValue]], layout: Layout) -> ParsedTable:
    """Every row after the header: data rows parsed, the others counted by kind. ``rows[i]``
    is sheet row ``i + 1``."""
    table = ParsedTable()
    for index in range(layout.first_data_row, len(rows)):
        row = rows[index]
        texts = [cell_text(v) for v in row]
        kind = classify(texts, layout)
        if kind is not RowKind.DATA:
            table.skipped[kind.value] = table.skipped.get(kind.value, 0) + 1
            continue
        table.read += 1
        parsed, issues = parse_row(index + 1, row, layout, texts)
        if parsed is None:
            table.refused.append(issues[0])  # what else is wrong with it no longer matters
        else:
            table.rows.append(parsed)
            table.warnings.extend(issues)
    return table

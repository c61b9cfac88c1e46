"""One row of the bureau's list, field by field, as docs/marketing.md ("Import") states the
rules: every value cleaned or dropped with a warning, a row refused only for a missing name or
a district outside Dalian, the district found from the first of column, address, institution
code and USCC, and each issue ``{"row", "field", "code", "reason": "中文 / English"}``."""

from __future__ import annotations

from datetime import date

import pytest

from yibaodai.domain.codes import make_institution_code, make_uscc
from yibaodai.domain.marketing.fields import CellValue
from yibaodai.domain.marketing.layout import SYNONYMS, Column, Layout
from yibaodai.domain.marketing.rows import ListRow, RowIssue, parse_row, parse_table

ORDER = [Column.NAME, Column.CODE, Column.USCC, Column.ADDRESS, Column.PHONE, Column.CONTACT,
         Column.KIND, Column.DISTRICT, Column.DESIGNATED_ON, Column.LATITUDE, Column.LONGITUDE]
#: every field in its own column, and a second phone column (电话 and 手机)
LAYOUT = Layout((0,), {**{c: (i,) for i, c in enumerate(ORDER)},
                       Column.PHONE: (ORDER.index(Column.PHONE), len(ORDER))})
CODE = make_institution_code(letter="P", area_code="210204", seq=17)  # 沙河口区
USCC = make_uscc(area_code="210203", org_body8="MA0Q5K2X")  # 西岗区
OTHER_USCC = make_uscc(area_code="210212", org_body8="MA0Q5K3Y")  # 旅顺口区


def cells(**given: CellValue) -> list[CellValue]:
    """A row with the named fields filled (``phone2`` is the second phone column)."""
    row: list[CellValue] = [given.get(c.value) for c in ORDER]
    return [*row, given.get("phone2")]


def full_row() -> list[CellValue]:
    return cells(name="大连康宁大药房", fixmedins_code=CODE, uscc=USCC,
                 address="大连市中山区人民路1号", phone="0411-82345678", phone2="13812345678",
                 contact="王伟", kind="零售药店", district="中山区",
                 designated_on=date(2024, 3, 1), latitude="38.92", longitude="121.63")


def test_a_complete_row_keeps_every_field() -> None:
    row, issues = parse_row(7, full_row(), LAYOUT)
    assert issues == []
    assert row == ListRow(row=7, name="大连康宁大药房", district="210202", fixmedins_code=CODE,
                          uscc=USCC, address="大连市中山区人民路1号",
                          phones=("0411-82345678", "13812345678"), contact="王伟", kind="2",
                          kind_text="零售药店", designated_on=date(2024, 3, 1),
                          latitude=38.92, longitude=121.63)


def test_the_district_column_comes_first_then_address_then_code_then_uscc() -> None:
    def district(**given: CellValue) -> str | None:
        row, _ = parse_row(2, cells(name="大连康宁诊所", **given), LAYOUT)
        return None if row is None else row.district

    everything = {"district": "甘井子", "address": "大连市金州区站前街3号",
                  "fixmedins_code": CODE, "uscc": USCC}
    assert district(**everything) == "210211"
    assert district(**{**everything, "district": None}) == "210213"
    assert district(**{**everything, "district": None, "address": "人民路1号"}) == "210204"
    assert district(uscc=USCC, address="人民路1号") == "210203"
    assert district(uscc=OTHER_USCC) == "210212"
    assert district(fixmedins_code=make_institution_code(
        letter="P", area_code="110101", seq=1), uscc=USCC) == "210203"  # a Beijing code
    # an invalid code or USCC gives no district: it was dropped with a warning
    assert district(fixmedins_code="P21020400017X") is None
    assert district(uscc=USCC[:-1] + ("0" if USCC[-1] != "0" else "1")) is None


def test_a_row_without_a_name_is_refused_first_with_its_other_warnings_after() -> None:
    row, issues = parse_row(12, cells(district="中山区", fixmedins_code="X1"), LAYOUT)
    assert row is None
    assert [(i.row, i.field, i.code) for i in issues] == [
        (12, "name", "name_missing"), (12, "fixmedins_code", "invalid_institution_code"),
        (12, "uscc", "uscc_missing")]
    assert issues[0].as_dict() == {"row": 12, "field": "name", "code": "name_missing",
                                   "reason": "机构名称为空 / the institution's name is empty"}


def test_a_row_outside_dalian_is_refused_naming_the_city() -> None:
    row, issues = parse_row(3, cells(name="沈阳康宁诊所", address="辽宁省沈阳市和平区1号",
                                     uscc=USCC[:5]), LAYOUT)
    assert row is None
    first = issues[0]
    assert (first.row, first.field, first.code) == (3, "district", "district_unknown")
    assert "沈阳市" in first.message_zh and "沈阳市" in first.message_en
    assert [i.code for i in issues[1:]] == ["invalid_uscc"]
    row, issues = parse_row(4, cells(name="康宁诊所", address="人民路1号"), LAYOUT)
    assert row is None and issues[0].code == "district_unknown"
    assert "区县" in issues[0].message_zh and "district" in issues[0].message_en


def test_dropped_values_are_warnings_on_their_own_fields() -> None:
    row, issues = parse_row(5, cells(name="大连康宁诊所", district="中山区", uscc=USCC,
                                     phone="12345", phone2="0411-82345678",
                                     designated_on="2024/13/1"), LAYOUT)
    assert row is not None
    assert row.phones == ("0411-82345678",) and row.designated_on is None
    assert [(i.row, i.field, i.code) for i in issues] == [(5, "phone", "invalid_phone"),
                                                         (5, "designated_on", "invalid_date")]
    phone = issues[0]
    assert "12345" in phone.message_zh and "12345" in phone.message_en
    assert all(i.message_zh and i.message_en for i in issues)


@pytest.mark.parametrize(("lat", "lon", "kept"), [
    ("38.92", "121.63", (38.92, 121.63)),
    ("38.5", "120.8", (38.5, 120.8)),      # the corners of Dalian's box are inside
    ("40.2", "123.6", (40.2, 123.6)),
    ("38.49", "121.63", None),             # just south of the box
    ("38.92", "123.61", None),             # just east
    ("121.63", "38.92", None),             # swapped
    ("38.92", None, None),                 # one without the other
    (None, "121.63", None),
    ("北纬38度", "121.63", None),
])
def test_coordinates_are_kept_only_as_a_pair_inside_dalian(
        lat: str | None, lon: str | None, kept: tuple[float, float] | None) -> None:
    row, issues = parse_row(6, cells(name="大连康宁诊所", district="中山区", uscc=USCC,
                                     latitude=lat, longitude=lon), LAYOUT)
    assert row is not None
    assert (None if row.latitude is None else (row.latitude, row.longitude)) == kept
    assert row.longitude is None if kept is None else row.longitude is not None
    expected = [] if kept else [RowIssue(6, "latitude", "invalid_coordinates",
                                         "经纬度缺失或不在大连范围内，已忽略",
                                         "coordinates missing or outside Dalian; ignored")]
    assert issues == expected


def test_no_coordinates_at_all_is_no_warning() -> None:
    row, issues = parse_row(6, cells(name="大连康宁诊所", district="中山区", uscc=USCC), LAYOUT)
    assert row is not None and issues == []
    assert (row.latitude, row.longitude, row.phones, row.contact, row.kind_text,
            row.address, row.fixmedins_code) == (None, None, (), None, None, None, None)


def test_a_missing_uscc_is_a_warning_and_long_texts_are_cut_to_their_columns() -> None:
    row, issues = parse_row(8, cells(name="大连" + "康" * 300, district="中山区",
                                     address="人民路" + "1" * 400, contact="王" * 80,
                                     kind="诊所" * 40), LAYOUT)
    assert row is not None
    assert issues == [RowIssue(8, "uscc", "uscc_missing", "统一社会信用代码缺失",
                               "USCC missing")]
    assert len(row.name) == 200 and row.name.startswith("大连康")
    assert len(row.address or "") == 300 and len(row.contact or "") == 50
    assert len(row.kind_text or "") == 50
    assert row.kind == "1"  # the type cell's words: 诊所


def test_the_kind_comes_from_the_name_when_the_type_cell_is_empty() -> None:
    row, _ = parse_row(2, cells(name="大连仁德药店", district="中山区"), LAYOUT)
    assert row is not None and (row.kind, row.kind_text) == ("2", None)
    row, _ = parse_row(2, cells(name="大连仁德医院", district="中山区", kind="2"), LAYOUT)
    assert row is not None and (row.kind, row.kind_text) == ("2", "2")


def test_a_table_counts_what_it_skips_and_keeps_only_the_first_refusal_of_a_row() -> None:
    header: list[CellValue] = [SYNONYMS[c][0] for c in ORDER]
    rows: list[list[CellValue]] = [
        ["大连市定点医药机构名单"], header,
        full_row(),
        [None] * 5,
        cells(district="中山区", fixmedins_code="X1"),  # refused, with two more problems
        header,  # repeated at a page break
        cells(name="大连惠民药房", district="西岗区", phone="abc"),
        ["合计", "共3家"],
        ["注：仅供营销使用"],
        [None],
    ]
    table = parse_table(rows, Layout((1,), LAYOUT.columns))
    assert table.read == 3
    assert table.skipped == {"blank": 2, "header": 1, "total": 1, "note": 1}
    assert [r.row for r in table.rows] == [3, 7]
    assert [(i.row, i.code) for i in table.refused] == [(5, "name_missing")]
    assert [(i.row, i.code) for i in table.warnings] == [(7, "uscc_missing"),
                                                         (7, "invalid_phone")]


def test_a_ragged_row_shorter_than_the_header_reads_as_empty_cells() -> None:
    row, issues = parse_row(4, ["大连康宁诊所"], LAYOUT)
    assert row is None and [i.code for i in issues] == ["district_unknown", "uscc_missing"]
    row, issues = parse_row(4, ["大连康宁诊所", None, None, "中山区人民路1号"], LAYOUT)
    assert row is not None and row.district == "210202" and row.phones == ()

"""Finding the table in a sheet by its column names, wherever the header sits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.marketing.fields import CellValue, cell_text
from yibaodai.domain.marketing.layout import (
    SYNONYMS,
    Column,
    Layout,
    RowKind,
    classify,
    find_layout,
)
from yibaodai.domain.marketing.rows import parse_row, parse_table

FIELDS = [c for c in Column if c is not Column.SEQ]
NOISE_ROWS = [["大连市定点医药机构名单"] * 6, ["制表单位：大连市医疗保障局", None, None],
              [None, None, None], ["基本信息", "基本信息", "联系方式"], ["单位：家"]]


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[list[CellValue]], int, dict[Column, int]]:
    """A sheet with a few title/notes lines, then a header naming a random subset of fields
    (always the name) with random synonyms, hints and spacing, in a random order."""
    fields = [Column.NAME, *draw(st.lists(st.sampled_from(FIELDS[1:]), unique=True,
                                          max_size=len(FIELDS) - 1))]
    order = draw(st.permutations(fields))
    header: list[CellValue] = []
    for column in order:
        name = draw(st.sampled_from(SYNONYMS[column]))
        name = draw(st.sampled_from([name, f"{name}（必填）", f"*{name}", f" {name} ",
                                     "".join(chr(ord(c) + 0xFEE0) if c.isascii() else c
                                             for c in name)]))
        header.append(name)
    above = draw(st.lists(st.sampled_from(NOISE_ROWS), max_size=4))
    data = [[f"大连康宁大药房{i}店" if c is Column.NAME else None for c in order]
            for i in range(draw(st.integers(1, 5)))]
    return [*above, header, *data], len(above), {c: i for i, c in enumerate(order)}


@given(sheets())
def test_the_header_is_found_by_its_column_names_wherever_it_is(
        sheet: tuple[list[list[CellValue]], int, dict[Column, int]]) -> None:
    rows, header_at, columns = sheet
    layout = find_layout(rows)
    assert layout is not None
    assert layout.header_rows[-1] == header_at
    assert {c: v[0] for c, v in layout.columns.items()} == columns


@given(st.lists(st.lists(st.text(max_size=8) | st.none(), max_size=6), max_size=8))
def test_layout_detection_never_raises_and_needs_a_name_column(
        rows: list[list[CellValue]]) -> None:
    layout = find_layout(rows)
    assert layout is None or Column.NAME in layout.columns


def test_a_two_line_header_and_a_hint_line_are_one_header() -> None:
    rows: list[list[CellValue]] = [
        ["名单"] * 5,
        ["机构名称", "信用代码", "联系方式", "联系方式", "地址"],
        ["机构名称", "信用代码", "电话", "联系人", "地址"],
        ["（必填）", "（18位）", None, None, None],
        ["大连康宁诊所", "", "82345678", "王伟", "大连市中山区人民路1号"],
    ]
    layout = find_layout(rows)
    assert layout is not None
    assert layout.header_rows == (2, 3)  # row 1 names nothing row 2 does not
    assert layout.columns[Column.PHONE] == (2,) and layout.columns[Column.CONTACT] == (3,)
    assert layout.first_data_row == 4


def _texts(row: list[CellValue]) -> list[str]:
    return [cell_text(v) for v in row]


def test_rows_after_the_header_are_told_apart() -> None:
    layout = Layout((0,), {Column.NAME: (1,), Column.ADDRESS: (2,)})
    assert classify(_texts([None, "", "  "]), layout) is RowKind.BLANK
    assert classify(_texts(["合计", "共300家", None]), layout) is RowKind.TOTAL
    assert classify(_texts([None, "总 计", None]), layout) is RowKind.TOTAL
    assert classify(_texts(["序号", "机构名称", "地址"]), layout) is RowKind.HEADER
    assert classify(_texts(["注：仅供营销使用"] * 3), layout) is RowKind.NOTE
    assert classify(_texts([1, "大连康宁诊所", "人民路1号"]), layout) is RowKind.DATA


def test_a_bad_row_is_refused_with_its_sheet_row_and_the_good_ones_are_kept() -> None:
    rows: list[list[CellValue]] = [
        ["机构名称", "区县", "统一社会信用代码", "定点日期"],
        ["大连康宁诊所", "中山区", "91110000802100433C", "2024年3月1日"],
        ["", "中山区", "", ""],
        ["大连惠民药房", "", "", "2024/13/1"],
        ["大连仁德药店", "甘井子", "", 45352],
    ]
    layout = find_layout(rows)
    assert layout is not None
    table = parse_table(rows, layout)
    assert table.read == 4
    assert [(r.row, r.district) for r in table.rows] == [(2, "210202"), (5, "210211")]
    assert [(i.row, i.code) for i in table.refused] == [(3, "name_missing"),
                                                         (4, "district_unknown")]
    assert [(i.row, i.code) for i in table.warnings] == [(2, "invalid_uscc"),
                                                         (5, "uscc_missing")]
    assert table.rows[1].designated_on is not None
    row, issues = parse_row(9, ["大连康宁诊所", "中山区", "", "x"], layout)
    assert row is not None and [i.code for i in issues] == ["uscc_missing", "invalid_date"]
    assert issues[0].as_dict()["reason"].startswith("统一社会信用代码缺失 / ")

"""Finding the header and telling the lines after it apart, rule by rule (docs/marketing.md,
"Sheet and header" and "Rows after the header"): the header is among the first 30 rows, names
the most known columns and must name the institution's name; a line just above or below
naming further fields in other columns within the header's width joins it; a numbering line
(1, 2, 3...) or a hint line right under it is skipped."""

from __future__ import annotations

from yibaodai.domain.marketing.fields import CellValue, cell_text
from yibaodai.domain.marketing.layout import (
    HEADER_SEARCH_ROWS,
    Column,
    Layout,
    RowKind,
    classify,
    column_of,
    find_layout,
    recognise,
)

DATA: list[CellValue] = ["大连康宁诊所", "中山区", "人民路1号"]


def test_header_names_are_read_through_hints_stars_colons_and_case() -> None:
    assert column_of("机构名称（必填）") is Column.NAME
    assert column_of("*机构名称") is Column.NAME
    assert column_of("※联系电话：") is Column.PHONE
    assert column_of("机构名称[全称]") is Column.NAME
    assert column_of("【区县】") is None  # a hint alone names nothing
    assert column_of("FIXMEDINS_CODE") is Column.CODE
    assert column_of("Ｔｅｌ") is Column.PHONE
    assert column_of("序号") is Column.SEQ
    assert column_of("备注") is None and column_of(None) is None


def test_a_merged_header_cell_counts_once_but_two_phone_columns_both_count() -> None:
    assert recognise(["机构名称", "机构名称", "电话", "手机", None]) == {
        Column.NAME: [0], Column.PHONE: [2, 3]}
    assert recognise([None, "无关", "地址"]) == {Column.ADDRESS: [2]}


def test_the_header_is_searched_in_the_first_30_rows_only() -> None:
    assert HEADER_SEARCH_ROWS == 30
    header: list[CellValue] = ["机构名称", "区县", "地址"]
    at_29 = [[f"标题{i}"] for i in range(29)] + [header, DATA]
    layout = find_layout(at_29)
    assert layout is not None and layout.header_rows == (29,) and layout.first_data_row == 30
    assert find_layout([[f"标题{i}"] for i in range(30)] + [header, DATA]) is None


def test_the_row_naming_most_fields_wins_and_it_must_name_the_name() -> None:
    rows: list[list[CellValue]] = [
        ["名称", "备注"],                          # names the name: one field
        ["地址", "电话", "区县", "联系人"],         # four fields but no name
        ["机构名称", "地址", None],                 # two
        ["机构名称", "地址", "电话"],               # three: the header
        ["单位名称", "地址", "电话"],               # three as well: the first one stays
        DATA,
    ]
    layout = find_layout(rows)
    assert layout is not None and layout.header_rows[0] == 3
    assert layout.columns[Column.NAME] == (0,)
    assert find_layout([["地址", "电话"], DATA]) is None
    assert find_layout([]) is None


def test_a_second_header_line_joins_only_with_new_fields_in_free_columns_within_width() -> None:
    rows: list[list[CellValue]] = [
        ["机构名称", "联系方式", "联系方式", "地址"],
        [None, "电话", "联系人", None, "区县"],  # 区县 lies past the header's width
        DATA,
    ]
    layout = find_layout(rows)
    assert layout is not None
    assert layout.header_rows == (0, 1)
    assert layout.columns[Column.CONTACT] == (2,)
    assert Column.DISTRICT not in layout.columns
    assert layout.first_data_row == 2
    # a line above joins the same way; a line naming nothing new does not
    above: list[list[CellValue]] = [["区县", None, None], [None, "机构名称", "地址"],
                                    [None, "名称", "经营地址"], DATA]
    layout = find_layout(above)
    assert layout is not None and layout.header_rows == (0, 1)
    assert layout.columns[Column.DISTRICT] == (0,) and layout.columns[Column.NAME] == (1,)
    # a line naming a field in a column the header already uses adds nothing
    taken: list[list[CellValue]] = [["机构名称", "地址"], ["区县", None], DATA]
    layout = find_layout(taken)
    assert layout is not None and layout.header_rows == (0,)
    assert Column.DISTRICT not in layout.columns


def test_numbering_and_hint_lines_under_the_header_are_skipped() -> None:
    header: list[CellValue] = ["机构名称", "区县", "地址"]

    def first_data(*under: list[CellValue]) -> int:
        layout = find_layout([header, *under, DATA])
        assert layout is not None
        return layout.first_data_row

    assert first_data([1, 2, 3]) == 2
    assert first_data(["（1）", "（2）", "（3）"]) == 2
    assert first_data(["1", "2", "3"], ["（必填）", "（选填）", "例：人民路1号"]) == 3
    assert first_data(["如:大连康宁诊所", "示例", None]) == 2
    assert first_data([1, 2]) == 1            # two numbers are data, not numbering
    assert first_data([1, 3, 4]) == 1         # not 1, 2, 3
    assert first_data([2, 3, 4]) == 1
    assert first_data(["（必填）", "人民路", None]) == 1
    assert first_data([None, None, None]) == 1  # a blank line is no hint
    layout = find_layout([header, [1, 2, 3]])
    assert layout is not None and layout.first_data_row == 2


LAYOUT = Layout((0,), {Column.NAME: (1,), Column.ADDRESS: (2,)})


def kind(*row: CellValue) -> RowKind:
    return classify([cell_text(v) for v in row], LAYOUT)


def test_lines_after_the_header() -> None:
    assert kind(None, "", None) is RowKind.BLANK
    assert kind("小计", None, None) is RowKind.TOTAL
    assert kind("共计：12家") is RowKind.TOTAL
    assert kind(None, "总数", None) is RowKind.TOTAL
    assert kind(None, "共 计", "3") is RowKind.TOTAL
    assert kind("12", "合计", "3") is RowKind.TOTAL  # in the name column
    assert kind("12", "大连康宁诊所", "合计") is RowKind.DATA  # a total word elsewhere
    assert kind(None, "机构名称", "地址") is RowKind.HEADER
    assert kind(None, "机构名称", "人民路1号") is RowKind.DATA  # one field named is no header
    assert kind("地址", "人民路", "地址") is RowKind.DATA  # the name column must name it
    assert kind("制表人：王伟", "制表人：王伟", None) is RowKind.NOTE
    assert kind("注：仅供营销使用") is RowKind.NOTE
    assert kind("注：仅供营销使用", "大连康宁诊所") is RowKind.DATA  # not one repeated note
    assert kind("大连注册诊所") is RowKind.DATA
    assert classify(["", "机构名称"], Layout((0,), {Column.NAME: (5,)})) is RowKind.DATA


def test_notes_repeated_across_cells_and_layouts_without_a_name_column() -> None:
    # the same remark in two cells, spaced differently: one note
    assert kind("注：仅供 test", "注：仅供test") is RowKind.NOTE
    assert kind("注：仅供 test", "注：仅供 best") is RowKind.DATA
    bare = Layout((0,), {Column.ADDRESS: (0,)})
    assert classify(["人民路1号", "x"], bare) is RowKind.DATA
    assert classify(["合计", "x"], bare) is RowKind.TOTAL

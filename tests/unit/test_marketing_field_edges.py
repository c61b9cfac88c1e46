"""The list's cell parsers on the edges of their rules (docs/marketing.md, "Fields"): China's
numbering plan for phones (mobiles 1[3-9] and 11 digits, area codes 010/02x of three digits,
others of four, local numbers of 7-8 digits not starting 0 or 1, extensions of 1-6 digits),
dates between 1950 and 2100 inclusive, cells typed as numbers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from yibaodai.domain.marketing.fields import (
    Problem,
    cell_text,
    compact,
    district_in_address,
    excel_serial_date,
    other_city_in_address,
    parse_coordinate,
    parse_date,
    parse_district,
    parse_institution_code,
    parse_kind,
    parse_phones,
    parse_uscc,
)


@pytest.mark.parametrize(("text", "phones"), [
    ("13812345678", ("13812345678",)),
    ("19912345678", ("19912345678",)),
    ("12812345678", ()),                        # 12x is no mobile prefix
    ("1381234567", ()),                         # ten digits
    ("010-62345678", ("010-62345678",)),        # Beijing: a three-digit area code
    ("021 52345678", ("021-52345678",)),
    ("0411-8234567", ("0411-8234567",)),        # seven-digit local number
    ("0411-82345678", ("0411-82345678",)),
    ("0411-823456", ()),                        # six digits after the area code
    ("0411-02345678", ()),                      # a local number never starts with 0 or 1
    ("0411-12345678", ()),
    ("8234567", ("0411-8234567",)),             # local: the city's area code
    ("82345678", ("0411-82345678",)),
    ("12345678", ()),
    ("02345678", ()),
    ("823456", ()),
    ("0411-8234567A", ("0411-8234567",)),       # a letter is no digit: dropped
    ("+86 411 82345678", ("0411-82345678",)),   # the trunk 0 lost after +86
    ("0086 13812345678", ("13812345678",)),
    ("+86 10 62345678", ("010-62345678",)),
    ("860411823456789", ()),
    ("0411-82345678转801", ("0411-82345678-801",)),
    ("0411-82345678转8", ("0411-82345678-8",)),   # one digit is an extension
    ("0411-82345678转801234", ("0411-82345678-801234",)),  # and six
    ("0411-82345678转8012345", ()),                  # seven is not
    ("0411-82345678转", ()),
    ("13812345678转801", ()),                        # a mobile has no extension
    ("0411-82345678-801", ("0411-82345678-801",)),
    ("0411-82345678-801234", ("0411-82345678-801234",)),
    ("0411-82345678-8012345", ()),
    ("04111-82345678-801", ()),                      # five-digit area group
    ("0411 82345678 13812345678", ("0411-82345678", "13812345678")),
    ("13812345678 13912345678", ("13812345678", "13912345678")),
    ("82345678 82345679", ("0411-82345678", "0411-82345679")),
    ("13812345678 1391234", ()),                     # a piece left over
])
def test_phone_numbers_follow_the_numbering_plan(text: str, phones: tuple[str, ...]) -> None:
    got = parse_phones(text)
    assert got.phones == phones
    assert got.unreadable == (() if phones else (text,))


def test_several_numbers_per_cell_are_listed_once_with_the_unreadable_pieces() -> None:
    got = parse_phones("电话：0411-82345678/13812345678、0411-82345678；abc")
    assert got.phones == ("0411-82345678", "13812345678")
    assert got.unreadable == ("abc",)
    assert parse_phones(13812345678.0).phones == ("13812345678",)
    assert parse_phones(None).phones == () and parse_phones(None).unreadable == ()


@pytest.mark.parametrize(("value", "expected"), [
    ("1950-01-01", date(1950, 1, 1)),
    ("2100-12-31", date(2100, 12, 31)),
    ("19500101", date(1950, 1, 1)),
    (21001231, date(2100, 12, 31)),
    (date(1950, 1, 1), date(1950, 1, 1)),
    (datetime(2100, 12, 31, 23, 59), date(2100, 12, 31)),
    ("2024年3月1日 10:30", date(2024, 3, 1)),
    (45352, date(2024, 3, 1)),            # Excel serial
    (45352.75, date(2024, 3, 1)),         # with a time of day
    ("45352", date(2024, 3, 1)),
    (18264, date(1950, 1, 1)),            # the first serial inside the range
    (73415, date(2100, 12, 31)),          # and the last
    ("", None),
    (None, None),
    ("   ", None),
])
def test_dates_are_read_up_to_both_ends_of_the_range(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "code"), [
    ("1949-12-31", "date_out_of_range"),
    ("2101-01-01", "date_out_of_range"),
    (date(1949, 12, 31), "date_out_of_range"),
    (datetime(2101, 1, 1), "date_out_of_range"),
    ("21010101", "date_out_of_range"),
    ("2024-02-30", "invalid_date"),
    ("20240230", "invalid_date"),
    (18263, "invalid_date"),              # a serial before 1950
    (73416, "invalid_date"),
    ("3/1/2024", "invalid_date"),         # ambiguous
    ("下月", "invalid_date"),
])
def test_dates_outside_the_range_or_impossible_are_problems_naming_the_text(
        value: object, code: str) -> None:
    problem = parse_date(value)  # type: ignore[arg-type]
    assert isinstance(problem, Problem) and problem.code == code
    shown = value.isoformat() if isinstance(value, date) else str(value)
    assert shown in problem.message_zh and shown in problem.message_en
    assert problem.text == f"{problem.message_zh} / {problem.message_en}"


def test_excel_serials_are_dates_only_inside_the_range() -> None:
    assert excel_serial_date(18264) == date(1950, 1, 1)
    assert excel_serial_date(18263.9) is None
    assert excel_serial_date(73415.0) == date(2100, 12, 31)
    assert excel_serial_date(73415.5) is None
    assert excel_serial_date(73416) is None
    assert excel_serial_date(float("nan")) is None


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (True, "True"), (13812345678.0, "13812345678"), (2.5, "2.5"),
    (float("nan"), ""), (float("inf"), ""), (float("-inf"), ""), (7, "7"),
    (datetime(2024, 3, 1, 10, 30), "2024-03-01"), (date(2024, 3, 1), "2024-03-01"),
    ("  a   b ", "a b"), ("大连 康宁　大药房 A", "大连康宁大药房 A"), ("Ｈ２１０２", "H2102"),
])
def test_cells_become_clean_text(value: object, text: str) -> None:
    assert cell_text(value) == text  # type: ignore[arg-type]


def test_compact_drops_every_space() -> None:
    assert compact(" 2102 02 ") == "210202" and compact(None) == ""


def test_codes_tolerate_case_spaces_and_hyphens_but_are_problems_otherwise() -> None:
    assert parse_institution_code(" p2102-0400017 ") == "P21020400017"
    bad = parse_institution_code("P2102040001")
    assert isinstance(bad, Problem) and bad.code == "invalid_institution_code"
    assert "12" in bad.message_zh and "12" in bad.message_en
    assert parse_institution_code("") is None and parse_uscc("  ") is None
    wrong = parse_uscc("91210203MA0Q5K2X0")
    assert isinstance(wrong, Problem) and wrong.code == "invalid_uscc"
    assert wrong.message_zh and wrong.message_en


@pytest.mark.parametrize(("text", "code"), [
    ("210202", "210202"), ("中山区", "210202"), ("中山", "210202"), ("大连市中山区", "210202"),
    ("辽宁省大连市甘井子区", "210211"), ("金普新区", "210213"), ("高新园区", "210211"),
    ("瓦房店", "210281"), ("庄河市", "210283"), ("沈阳市", None), ("210200", None), ("", None),
])
def test_district_cells(text: str, code: str | None) -> None:
    assert parse_district(text) == code


def test_the_first_district_named_in_an_address_wins() -> None:
    assert district_in_address("大连市西岗区中山路1号") == "210203"
    assert district_in_address("中山路1号（西岗区）") == "210203"
    assert district_in_address("甘井子区金州区路1号") == "210211"
    assert district_in_address("金普新区站前街1号") == "210213"
    assert district_in_address("旅顺中山路1号") is None  # short forms are street names
    assert other_city_in_address("辽宁省沈阳市和平区") == "沈阳市"
    assert other_city_in_address("北京市朝阳区") == "北京市"
    assert other_city_in_address("辽宁省瓦房店市") is None
    assert other_city_in_address("大连市中山区") is None
    assert other_city_in_address("中山路1号") is None


@pytest.mark.parametrize(("cell", "name", "kind"), [
    ("1", "康宁大药房", "1"), ("2", "康宁医院", "2"), ("零售药店", "", "2"),
    ("医疗机构", "康宁大药房", "1"), ("", "康宁大药房", "2"), ("", "康宁中医馆", "1"),
    ("", "康宁商店", None), ("其他", "康宁医院", None),
])
def test_kinds(cell: str, name: str, kind: str | None) -> None:
    assert parse_kind(cell, name=name) == kind


@pytest.mark.parametrize(("text", "value"), [
    ("38.5", 38.5), ("40.2", 40.2), ("39°", 39.0), ("３９.１", 39.1),
    ("38.49", None), ("40.21", None), ("", None), ("北纬39", None),
])
def test_coordinates_inside_the_box_both_ends_included(text: str, value: float | None) -> None:
    assert parse_coordinate(text, low=38.5, high=40.2) == value


def test_the_district_named_first_in_an_address_wins_even_if_another_comes_back() -> None:
    assert district_in_address("西岗区中山区西岗区路1号") == "210203"
    # three-character aliases are generic (every city has a 开发区, a 高新区): not read
    assert district_in_address("开发区辽河西路1号") is None
    assert district_in_address("高新区黄浦路1号") is None
    assert district_in_address("大连开发区辽河西路1号") == "210213"

"""The list's cell parsers take hostile input: phone numbers, dates, USCCs, districts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.codes import DALIAN_DISTRICTS, USCC_ALPHABET, make_uscc
from yibaodai.domain.marketing.fields import (
    Problem,
    cell_text,
    district_in_address,
    excel_serial_date,
    other_city_in_address,
    parse_date,
    parse_district,
    parse_institution_code,
    parse_kind,
    parse_phones,
    parse_uscc,
    tel_uri,
)

FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789"})

mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))
locals_ = st.builds(lambda first, rest: f"{first}{rest}", st.sampled_from("23456789"),
                    st.text(alphabet="0123456789", min_size=7, max_size=7))
areas = st.sampled_from(["0411", "024", "010", "021", "0412"])


@st.composite
def written_phone(draw: st.DrawFn) -> tuple[str, str]:
    """(how someone typed it, the canonical number)."""
    if draw(st.booleans()):
        number = draw(mobiles)
        shape = draw(st.sampled_from(["{n}", "{a} {b} {c}", "{a}-{b}-{c}", "+86 {n}",
                                      "+86-{n}", "0086{n}", "(+86){n}"]))
        text = shape.format(n=number, a=number[:3], b=number[3:7], c=number[7:])
        canonical = number
    else:
        area, local = draw(areas), draw(locals_)
        shape = draw(st.sampled_from(["{area}-{local}", "({area}){local}", "{area} {local}",
                                      "{area}{local}", "+86 {short} {local}"]))
        text = shape.format(area=area, local=local, short=area[1:])
        canonical = f"{area}-{local}"
        if area == "0411" and draw(st.booleans()):
            text, canonical = local, f"0411-{local}"  # a local number: the city's area code
    if draw(st.booleans()):
        text = text.translate(FULLWIDTH)
    return text, canonical


@given(st.lists(written_phone(), min_size=1, max_size=3),
       st.sampled_from(["/", "、", ",", "；", " 或 ", "\n"]))
def test_phone_numbers_in_any_common_format_come_out_canonical(
        phones: list[tuple[str, str]], separator: str) -> None:
    parsed = parse_phones(separator.join(text for text, _ in phones))
    assert parsed.unreadable == ()
    assert parsed.phones == tuple(dict.fromkeys(canonical for _, canonical in phones))


@given(st.text(max_size=60))
def test_the_phone_parser_never_raises_and_only_answers_canonical_numbers(text: str) -> None:
    parsed = parse_phones(text)
    for phone in parsed.phones:
        assert phone.isascii() and ((phone.isdigit() and len(phone) == 11)
                                    or phone.split("-")[0].startswith("0"))


def test_extensions_and_numbers_stored_as_floats_are_read() -> None:
    assert parse_phones("0411-82345678转801").phones == ("0411-82345678-801",)
    assert parse_phones("0411-82345678-801").phones == ("0411-82345678-801",)
    assert parse_phones(13812345678.0).phones == ("13812345678",)
    assert parse_phones("电话：0411-8234 5678 13812345678").phones == (
        "0411-82345678", "13812345678")
    assert parse_phones("123").unreadable == ("123",)


def test_tel_links_follow_rfc_3966() -> None:
    assert tel_uri("13812345678") == "tel:+8613812345678"
    assert tel_uri("0411-82345678") == "tel:+8641182345678"
    assert tel_uri("0411-82345678-801") == "tel:+8641182345678,801"


days = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))


@given(days, st.sampled_from(["{y}年{m}月{d}日", "{y}/{m}/{d}", "{y}-{m:02d}-{d:02d}",
                              "{y}{m:02d}{d:02d}", "{y}.{m}.{d}", " {y} 年 {m} 月 {d} 日 ",
                              "{y}-{m:02d}-{d:02d} 00:00:00"]), st.booleans())
def test_dates_written_as_text_are_read(day: date, shape: str, fullwidth: bool) -> None:
    text = shape.format(y=day.year, m=day.month, d=day.day)
    assert parse_date(text.translate(FULLWIDTH) if fullwidth else text) == day


@given(days)
def test_excel_dates_serial_numbers_and_yyyymmdd_numbers_are_read(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert parse_date(float(serial)) == day
    assert parse_date(int(day.strftime("%Y%m%d"))) == day
    assert parse_date(datetime(day.year, day.month, day.day, 8, 30)) == day
    assert excel_serial_date(serial + 0.75) == day  # a time of day does not move the date


@given(st.text(max_size=30) | st.integers() | st.floats())
def test_the_date_parser_never_raises(value: str | int | float) -> None:
    result = parse_date(value)
    assert result is None or isinstance(result, date | Problem)


@pytest.mark.parametrize("text", ["2024年13月1日", "2024/2/30", "3/1/2024", "1850-01-01", "昨天"])
def test_impossible_or_ambiguous_dates_are_problems(text: str) -> None:
    assert isinstance(parse_date(text), Problem)


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    return make_uscc(area_code=draw(st.sampled_from(sorted(DALIAN_DISTRICTS))),
                     org_body8=draw(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)),
                     registering=draw(st.sampled_from("159")), entity=draw(st.sampled_from("12")))


@given(valid_usccs(), st.sampled_from(["plain", "lower", "spaces", "fullwidth", "hyphens"]))
def test_a_valid_uscc_survives_the_ways_people_type_it(uscc: str, noise: str) -> None:
    typed = {"plain": uscc, "lower": uscc.lower(), "spaces": f" {uscc[:6]} {uscc[6:]} ",
             "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in uscc),
             "hyphens": f"{uscc[:8]}-{uscc[8:]}"}[noise]
    assert parse_uscc(typed) == uscc


@given(valid_usccs(), st.sampled_from(USCC_ALPHABET))
def test_a_wrong_check_character_is_a_problem_that_says_so(uscc: str, wrong: str) -> None:
    if wrong == uscc[17]:
        return
    problem = parse_uscc(uscc[:17] + wrong)
    assert isinstance(problem, Problem)
    assert "校验位" in problem.message_zh and "check character" in problem.message_en


@given(st.text(max_size=25))
def test_the_uscc_and_code_parsers_never_raise(text: str) -> None:
    for result in (parse_uscc(text), parse_institution_code(text)):
        assert result is None or isinstance(result, str | Problem)


def test_text_is_folded_and_spaces_between_chinese_characters_go() -> None:
    assert cell_text("大连 康宁\u3000大药房（人民路店）") == "大连康宁大药房(人民路店)"
    assert cell_text(20240301.0) == "20240301"
    assert cell_text("  a   b ") == "a b"


def test_districts_are_read_from_names_codes_aliases_and_addresses() -> None:
    assert parse_district("甘井子") == parse_district("甘井子区") == "210211"
    assert parse_district("210213") == parse_district("金普新区") == "210213"
    assert parse_district("中山路") is None
    assert district_in_address("辽宁省大连市沙河口区中山路572号") == "210204"
    assert district_in_address("大连市中山路572号") is None  # a street, not a district
    assert other_city_in_address("辽宁省沈阳市和平区南京北街8号") == "沈阳市"
    assert other_city_in_address("辽宁省瓦房店市共济街38号") is None


def test_kinds_are_read_from_the_type_cell_or_else_the_name() -> None:
    assert parse_kind("定点零售药店", name="x") == "2"
    assert parse_kind("", name="大连康宁诊所") == "1"
    assert parse_kind("", name="某某公司") is None


def test_excel_serials_outside_plausible_years_are_not_dates() -> None:
    assert excel_serial_date(100.0) is None
    assert excel_serial_date((date(2024, 3, 1) - date(1899, 12, 30) + timedelta(0)).days) == date(
        2024, 3, 1)

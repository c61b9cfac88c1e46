"""Codes against published answers and on the edges of their rules: USCCs of real companies
(GB 32100, whose positions 9-17 are a GB 11714 organisation code with its own check
character), full-width input named as such (U+FF01..U+FF5E and the ideographic space), and the
builders' refusals naming what was wrong."""

from __future__ import annotations

import pytest

from yibaodai.domain.codes import (
    institution_code_area,
    is_valid_uscc,
    make_institution_code,
    make_uscc,
    org_code_check_char,
    uscc_check_char,
    validate_area_code,
    validate_institution_code,
    validate_uscc,
)
from yibaodai.errors import ValidationFailed

#: published USCCs: the GB 32100 standard's example, China Merchants Bank, Alibaba (China)
PUBLISHED = ["91350100M000100Y43", "9144030010001686XA", "91330100716105852F"]


@pytest.mark.parametrize("uscc", PUBLISHED)
def test_published_usccs_and_their_organisation_codes_check(uscc: str) -> None:
    assert is_valid_uscc(uscc) and validate_uscc(uscc) == uscc
    assert uscc_check_char(uscc[:17]) == uscc[17]
    assert org_code_check_char(uscc[8:16]) == uscc[16]
    body = uscc[8:16]
    assert make_uscc(area_code=uscc[2:8], org_body8=body, registering=uscc[0],
                     entity=uscc[1]) == uscc


def test_an_organisation_check_of_ten_is_x() -> None:
    assert org_code_check_char("10001686") == "X"  # China Merchants Bank


@pytest.mark.parametrize(("call", "match"), [
    (lambda: org_code_check_char("1000168"), "1000168"),
    (lambda: org_code_check_char("1000168a"), "1000168a"),
    (lambda: uscc_check_char("9144030010001686"), "9144030010001686"),
    (lambda: uscc_check_char("9144030010001686I"), "9144030010001686I"),
    (lambda: make_uscc(area_code="21020", org_body8="MA0Q5K2X"), "21020"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2X", registering="99"), "'99'"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2X", registering="I"), "'I'"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2X", entity="11"), "'11'"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2X", entity="O"), "'O'"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2"), "MA0Q5K2"),
    (lambda: make_uscc(area_code="210202", org_body8="MA0Q5K2I"), "MA0Q5K2I"),
    (lambda: make_institution_code(letter="h", area_code="210202", seq=1), "'h'"),
    (lambda: make_institution_code(letter="HH", area_code="210202", seq=1), "'HH'"),
    (lambda: make_institution_code(letter="H", area_code="2102021", seq=1), "2102021"),
    (lambda: make_institution_code(letter="H", area_code="210202", seq=100_000), "100000"),
    (lambda: make_institution_code(letter="H", area_code="210202", seq=-1), "-1"),
    (lambda: institution_code_area("H2102020000"), "H2102020000"),
])
def test_impossible_inputs_to_the_builders_are_refused_naming_them(call: object,
                                                                   match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_the_builders_accept_their_whole_ranges() -> None:
    assert make_institution_code(letter="Z", area_code="210202", seq=0) == "Z21020200000"
    assert make_institution_code(letter="A", area_code="210202", seq=99_999) == "A21020299999"
    assert institution_code_area("Z21020299999") == "210202"


def _failure(call: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(("value", "zh", "en"), [
    (210202, "必须是字符串", "got int"),
    ("21020", "6位半角数字", "6 ASCII digits"),
    ("２１０２０２", "（含全角字符）", "(contains full-width characters)"),
    ("21020\u3000", "（含全角字符）", "(contains full-width characters)"),
    ("210201", "“210201”不是大连市", "'210201' is not Dalian"),
    ("110101", "不是大连市或其所辖区县", "not Dalian city"),
])
def test_area_codes_say_what_is_wrong_on_the_field_given(value: object, zh: str,
                                                         en: str) -> None:
    failure = _failure(lambda: validate_area_code(value, field="sub_branches.0.districts.1"))
    assert failure.code == "invalid_area_code"
    assert zh in failure.message_zh and en in failure.message_en
    [field] = failure.fields
    assert field.field == "sub_branches.0.districts.1"
    assert (field.message_zh, field.message_en) == (failure.message_zh, failure.message_en)


def test_a_plain_wrong_area_code_does_not_claim_full_width_characters() -> None:
    failure = _failure(lambda: validate_area_code("2102a2", field="x"))
    assert "全角" not in failure.message_zh and "full-width" not in failure.message_en
    assert failure.message_zh == "行政区划代码应为6位半角数字"
    assert failure.message_en == "area code must be 6 ASCII digits"
    assert validate_area_code("210200", field="x") == "210200"
    assert validate_area_code("210283", field="x") == "210283"


@pytest.mark.parametrize(("char", "fullwidth"), [
    ("\uff01", True), ("\uff5e", True), ("\u3000", True),   # ！, ～ and the ideographic space
    ("\uff00", False), ("\uff5f", False), ("#", False),
])
def test_full_width_characters_are_named_as_such(char: str, fullwidth: bool) -> None:
    failure = _failure(lambda: validate_uscc("9121020" + char + "MA0Q5K2X0Y"))
    assert ("全角" in failure.message_zh) is fullwidth
    assert ("full-width" in failure.message_en) is fullwidth
    assert "第8位" in failure.message_zh and "position 8" in failure.message_en
    code = _failure(lambda: validate_institution_code("H21020" + char + "00001"))
    assert ("全角" in code.message_zh) is fullwidth


def test_code_validators_refuse_non_strings_on_their_field() -> None:
    failure = _failure(lambda: validate_institution_code(12, field="code"))
    assert failure.code == "invalid_institution_code" and failure.fields[0].field == "code"
    assert "字符串" in failure.message_zh and "got int" in failure.message_en
    failure = _failure(lambda: validate_uscc(None))
    assert failure.code == "invalid_uscc" and failure.fields[0].field == "uscc"
    assert "got NoneType" in failure.message_en
    failure = _failure(lambda: validate_institution_code("h21020200001"))
    assert failure.fields[0].field == "fixmedins_code"
    assert "第1位" in failure.message_zh and "'h'" in failure.message_en

"""USCC, organisation code, institution code and Dalian area code rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.codes import (
    DALIAN_CITY,
    DALIAN_DISTRICTS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    institution_code_area,
    is_known_area_code,
    is_valid_institution_code,
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

# Both checked by hand with the GB 32100 / GB 11714 formulas (sums 485 and 1640 mod 31).
KNOWN_VALID_USCCS = ["91110000802100433B", "91350100M000100Y43"]

FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}

area_codes = st.sampled_from(sorted(DALIAN_DISTRICTS))
uscc_chars = st.sampled_from(USCC_ALPHABET)
org_bodies = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    return make_uscc(
        area_code=draw(st.text(alphabet="0123456789", min_size=6, max_size=6)),
        org_body8=draw(org_bodies),
        registering=draw(uscc_chars),
        entity=draw(uscc_chars),
    )


def test_weights_are_powers_of_three_mod_31_as_the_standard_lists() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("uscc", KNOWN_VALID_USCCS)
def test_published_usccs_are_valid(uscc: str) -> None:
    assert is_valid_uscc(uscc)
    assert validate_uscc(uscc) == uscc
    assert uscc_check_char(uscc[:17]) == uscc[17]


def test_organisation_code_check_char_matches_hand_calculation() -> None:
    # 8*3 + 0*7 + 2*9 + 1*10 + 0*5 + 0*8 + 4*4 + 3*2 = 74; 11 - 74 % 11 = 3
    assert org_code_check_char("80210043") == "3"
    # M=22: 66 + 5 + Y=34*2=68 -> 139; 11 - 139 % 11 = 4
    assert org_code_check_char("M000100Y") == "4"


def test_organisation_code_check_maps_ten_to_x_and_eleven_to_zero() -> None:
    assert org_code_check_char("00000001") == "9"  # 1*2 = 2 -> 11 - 2 = 9
    assert org_code_check_char("10000000") == "8"  # 1*3 = 3 -> 8
    assert org_code_check_char("00000010") == "7"  # 1*4 = 4 -> 7
    assert org_code_check_char("40000000") == "X"  # 4*3 = 12 -> 11 - 1 = 10 -> 'X'
    assert org_code_check_char("00000000") == "0"  # 11 - 0 = 11 -> '0'
    assert org_code_check_char("A0000000") == "3"  # A=10: 30 -> 11 - 8 = 3


@given(valid_usccs())
def test_make_uscc_always_builds_a_valid_uscc(uscc: str) -> None:
    assert is_valid_uscc(uscc)
    assert uscc[16] == org_code_check_char(uscc[8:16])


@given(valid_usccs(), st.integers(min_value=0, max_value=17), uscc_chars)
def test_changing_any_single_character_makes_a_uscc_invalid(
    uscc: str, position: int, replacement: str
) -> None:
    if uscc[position] == replacement:
        return
    changed = uscc[:position] + replacement + uscc[position + 1 :]
    assert not is_valid_uscc(changed)


@given(valid_usccs(), st.integers(min_value=0, max_value=17))
def test_a_full_width_character_anywhere_makes_a_uscc_invalid(uscc: str, position: int) -> None:
    changed = uscc[:position] + FULLWIDTH[uscc[position]] + uscc[position + 1 :]
    assert not is_valid_uscc(changed)
    with pytest.raises(ValidationFailed) as info:
        validate_uscc(changed)
    assert "全角" in info.value.fields[0].message_zh
    assert "full-width" in info.value.fields[0].message_en


def test_validate_uscc_says_when_the_length_is_wrong() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_uscc("91110000802100433", field="applicant.uscc")
    err = info.value
    assert err.code == "invalid_uscc"
    assert err.fields[0].field == "applicant.uscc"
    assert "18位" in err.fields[0].message_zh and "18 characters" in err.fields[0].message_en


def test_validate_uscc_names_a_forbidden_letter() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_uscc("91110000802100433I")
    assert "position 18" in info.value.fields[0].message_en
    assert "不是允许的字符" in info.value.fields[0].message_zh


def test_validate_uscc_gives_the_expected_check_character() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_uscc("91110000802100433C")
    assert "'B'" in info.value.fields[0].message_en
    assert "校验位" in info.value.fields[0].message_zh


def test_validate_uscc_rejects_a_letter_in_the_area_code() -> None:
    body = "91A10000802100433"
    candidate = body + uscc_check_char(body)
    assert not is_valid_uscc(candidate)
    with pytest.raises(ValidationFailed) as info:
        validate_uscc(candidate)
    assert "area code" in info.value.fields[0].message_en


@pytest.mark.parametrize("value", [None, 91110000802100433, b"91110000802100433B"])
def test_validate_uscc_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValidationFailed):
        validate_uscc(value)


def test_lowercase_uscc_is_not_silently_accepted() -> None:
    assert not is_valid_uscc("91350100m000100y43")


# --- institution codes --------------------------------------------------------------------


@given(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    area_codes,
    st.integers(min_value=0, max_value=99_999),
)
def test_made_institution_codes_are_valid_and_carry_their_area(
    letter: str, area: str, seq: int
) -> None:
    code = make_institution_code(letter=letter, area_code=area, seq=seq)
    assert len(code) == 12
    assert is_valid_institution_code(code)
    assert validate_institution_code(code) == code
    assert institution_code_area(code) == area


def test_institution_code_letter_is_not_hard_coded() -> None:
    assert is_valid_institution_code("H43111100255")
    assert is_valid_institution_code("P21020200001")
    assert is_valid_institution_code("Q21020200001")


@pytest.mark.parametrize(
    "bad",
    [
        "h21020200001",  # lowercase letter
        "121020200001",  # no letter
        "H2102020000",  # 11 characters
        "H210202000011",  # 13 characters
        "H２１０２０２00001",  # full-width digits
        "Ｈ21020200001",  # full-width letter
        "H2102020000A",  # letter among the digits
        "H21020200٠01",  # Arabic-Indic digit: isdigit() is True, still not ASCII
    ],
)
def test_malformed_institution_codes_are_rejected(bad: str) -> None:
    assert not is_valid_institution_code(bad)
    with pytest.raises(ValidationFailed) as info:
        validate_institution_code(bad, field="fixmedins_code")
    assert info.value.code == "invalid_institution_code"
    assert info.value.fields[0].field == "fixmedins_code"
    assert info.value.fields[0].message_zh and info.value.fields[0].message_en


@given(st.text(max_size=14))
def test_institution_code_validity_is_exactly_the_documented_pattern(text: str) -> None:
    expected = (
        len(text) == 12
        and text[0] in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        and all(c in "0123456789" for c in text[1:])
    )
    assert is_valid_institution_code(text) is expected


def test_make_institution_code_refuses_impossible_inputs() -> None:
    with pytest.raises(ValueError):
        make_institution_code(letter="h", area_code="210202", seq=1)
    with pytest.raises(ValueError):
        make_institution_code(letter="H", area_code="２１０２０２", seq=1)
    with pytest.raises(ValueError):
        make_institution_code(letter="H", area_code="210202", seq=100_000)


# --- area codes ---------------------------------------------------------------------------


def test_dalian_has_ten_districts_with_chinese_and_english_names() -> None:
    assert len(DALIAN_DISTRICTS) == 10
    assert DALIAN_DISTRICTS["210202"][0] == "中山区"
    assert DALIAN_DISTRICTS["210283"][0] == "庄河市"
    assert all(zh and en for zh, en in DALIAN_DISTRICTS.values())


@pytest.mark.parametrize("code", [DALIAN_CITY, *sorted(DALIAN_DISTRICTS)])
def test_known_area_codes_validate(code: str) -> None:
    assert is_known_area_code(code)
    assert validate_area_code(code, field="area") == code


@pytest.mark.parametrize("code", ["210201", "110000", "210225", "21020", "2102020"])
def test_unknown_area_codes_are_rejected(code: str) -> None:
    assert not is_known_area_code(code)
    with pytest.raises(ValidationFailed) as info:
        validate_area_code(code, field="fix_blng_admdvs")
    assert info.value.code == "invalid_area_code"
    assert info.value.fields[0].field == "fix_blng_admdvs"


def test_full_width_area_code_is_rejected_with_a_hint() -> None:
    assert not is_known_area_code("２１０２０２")
    with pytest.raises(ValidationFailed) as info:
        validate_area_code("２１０２０２", field="area")
    assert "全角" in info.value.fields[0].message_zh
    assert "full-width" in info.value.fields[0].message_en


def test_non_string_area_code_is_rejected() -> None:
    with pytest.raises(ValidationFailed):
        validate_area_code(210202, field="area")

"""On-site findings against the bureau's values: spelling never makes a mismatch, a
different fact always does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.verification import compare, mismatches, normal_form

ASCII = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@given(ASCII)
def test_full_width_spacing_and_case_do_not_change_the_normal_form(text: str) -> None:
    assert normal_form(f"  {_full_width(text).lower()} ") == normal_form(text)


@given(ASCII)
def test_the_normal_form_is_idempotent(text: str) -> None:
    assert normal_form(normal_form(text)) == normal_form(text)


def test_dates_in_chinese_or_iso_spelling_compare_equal() -> None:
    assert normal_form("2027年3月1日") == normal_form("2027-03-01") == "2027-03-01"
    assert normal_form("2027/3/2") != normal_form("2027-03-01")


def test_only_fields_recorded_on_site_are_compared_and_differences_are_named() -> None:
    bureau = {"uscc": "91210200MA0XXXXX1A", "address": "大连市中山区人民路1号",
              "operating_status": "1"}
    findings = compare({"uscc": "91210200ma0xxxxx1a", "address": "大连市中山区人民路9号"},
                       bureau)
    assert [f.field for f in findings] == ["uscc", "address"]
    assert mismatches(findings) == ["address"]
    assert mismatches(compare({"legal_representative": "张三"}, bureau)) == [
        "legal_representative"]  # the bureau has no value: not confirmed


def test_the_normal_form_upper_cases_letters() -> None:
    assert normal_form("91210202ma0q5k2x0y") == "91210202MA0Q5K2X0Y"
    assert normal_form(" ａｂ c ") == "ABC"

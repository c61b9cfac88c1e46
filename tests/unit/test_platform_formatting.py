"""Formatting for people and masking of personal identifiers: pure, so property-tested."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.auth.roles import Role
from yibaodai.reports.formatting import (
    CATALOGUE,
    format_inputs,
    format_reasons,
    format_values,
    labelled,
)
from yibaodai.reports.masking import FieldRule, MaskingRules, masking_rules

values = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-10**9, 10**9), st.decimals(allow_nan=False,
                                                           allow_infinity=False, places=2),
                   st.text(max_size=20), st.booleans())


@given(key=st.sampled_from(sorted(CATALOGUE)), value=values)
def test_every_catalogued_value_displays_without_none_or_a_raw_float(key: str,
                                                                     value: object) -> None:
    shown = labelled(key, value)
    kind = CATALOGUE[key].kind
    for text in (shown["display_zh"], shown["display_en"]):
        # a text value is shown as it is (the word "None" included); anything else never
        # shows Python's None
        assert text and ("None" not in text or (isinstance(value, str) and "None" in value))
        numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        if numeric and kind == "ratio":
            assert re.fullmatch(r"-?[\d]+\.\d\d%", text), text
        if numeric and kind == "money":
            assert re.fullmatch(r"-?[\d,]+\.\d\d (元|yuan)", text), text


def test_amounts_are_yuan_with_separators_and_ratios_percentages() -> None:
    assert labelled("avg_monthly_fund_pay_12m", "123456.7")["display_zh"] == "123,456.70 元"
    assert labelled("cv_12m", 0.123456)["display_en"] == "12.35%"
    assert labelled("growth_3m_over_prior_3m", -0.5)["display_zh"] == "-50.00%"
    assert labelled("months_since_last_penalty", None)["display_zh"] == "无数据"
    assert labelled("served", ["pharmacy", "clinic"])["display_zh"] == "零售药店、诊所/门诊部"
    assert labelled("minimum", "10000.00", reason_code="K07")["display_en"] == "10,000.00 yuan"
    assert labelled("minimum", 12, reason_code="K04")["display_zh"] == "12 个月"


def test_settlement_figures_and_unknown_keys_are_left_out_for_non_managers() -> None:
    reason = {"code": "L03", "rank": 1, "text_zh": "t", "text_en": "t",
              "values": {"base": "630000.00", "cap": "2000000", "mystery": 1}}
    public = format_reasons([reason], sees_settlement=False)[0]["values"]
    assert [v["key"] for v in public] == ["cap"]
    everything = format_reasons([reason], sees_settlement=True)[0]["values"]
    assert [v["key"] for v in everything] == ["base", "cap", "mystery"]
    assert format_values({"current": "1.00", "month": "2026-09"}, reason_code="W01",
                         sees_settlement=False)[0]["key"] == "month"


def test_inputs_list_each_key_once_profile_first() -> None:
    inputs = {"segment": "clinic", "cred_lv_name": "A", "fixmedins_code": "H1",
              "features": {"cred_lv_name": "A", "cv_12m": 0.2, "monthly_fund_pay_12m": {}}}
    keys = [x["key"] for x in format_inputs(inputs)]
    assert keys == ["segment", "cred_lv_name", "cv_12m"]


rules = st.builds(FieldRule, label_zh=st.just("x"), label_en=st.just("x"),
                  keep_start=st.integers(0, 6), keep_end=st.integers(0, 6),
                  unmasked_roles=st.just(frozenset({Role.BRANCH_MANAGER})))


@given(rule=rules, value=st.text(min_size=1, max_size=30))
def test_a_masked_value_keeps_only_its_ends_and_hides_something(rule: FieldRule,
                                                                 value: str) -> None:
    masking = MaskingRules(fields={"f": rule})
    masked = masking.mask("f", value, role=Role.CLIENT_MANAGER)
    assert masked != value or set(value) == {"*"}
    assert "*" in masked
    start = min(rule.keep_start, 1) if rule.keep_start + rule.keep_end >= len(value) \
        else rule.keep_start
    assert masked.startswith(value[:start])
    assert masking.mask("f", value, role=Role.BRANCH_MANAGER) == value


def test_the_packaged_rules_mask_phone_account_and_name_as_compliance_expects() -> None:
    rules_ = masking_rules()
    assert rules_.mask("phone", "13812345678", role=Role.AUDITOR) == "138****5678"
    assert rules_.mask("bankacct", "6222020200112233", role=Role.CLIENT_MANAGER) == \
        "************2233"
    assert rules_.mask("legrep_name", "王小明", role=Role.CLIENT_MANAGER) == "王**"
    assert rules_.mask("legrep_name", "王小明", role=Role.BRANCH_ADMIN) == "王小明"
    assert rules_.mask("unknown_field", "abc", role=Role.BRANCH_MANAGER) == "***"

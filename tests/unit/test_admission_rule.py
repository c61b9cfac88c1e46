"""The whitelist rule, with features built by hand so every reason can be provoked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.admission import POLICY, AdmissionInputs, decide


def features(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "months_of_history": 24, "avg_monthly_fund_pay_12m": "100000.00",
        "avg_monthly_fund_pay_6m": "100000.00", "growth_3m_over_prior_3m": 0.02,
        "cv_12m": 0.1,
    }
    base.update(overrides)
    return base


def inputs(**overrides: Any) -> AdmissionInputs:
    fields: dict[str, Any] = {
        "fixmedins_code": "P21020200001", "segment": "pharmacy", "ownership": "private",
        "biz_stas": "1", "cred_lv_name": "A", "penalties_24m": 0, "features": features()}
    fields.update(overrides)
    return AdmissionInputs(**fields)


def test_a_healthy_pharmacy_is_admitted_at_three_times_its_monthly_fund_payment() -> None:
    outcome = decide(inputs())
    assert outcome.admitted and outcome.credit_limit == Decimal("300000.00")
    assert [r.code for r in outcome.reasons] == ["L03"]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"ownership": "public"}, "K02"),
    ({"segment": "other"}, "K01"),
    ({"biz_stas": "2"}, "K03"),
    ({"features": features(months_of_history=11)}, "K04"),
    ({"penalties_24m": 1}, "K05"),
    ({"cred_lv_name": "D"}, "K06"),
    ({"features": features(avg_monthly_fund_pay_6m="9999.99")}, "K07"),
    ({"features": features(growth_3m_over_prior_3m=-0.31)}, "K08"),
])
def test_each_knock_out_refuses_with_its_own_reason(overrides: dict[str, Any], code: str) -> None:
    outcome = decide(inputs(**overrides))
    assert not outcome.admitted and outcome.credit_limit == 0
    assert code in [r.code for r in outcome.reasons]
    reason = next(r for r in outcome.reasons if r.code == code)
    assert reason.text_zh and reason.text_en and reason.values


def test_instability_and_decline_each_cut_the_limit_and_say_so() -> None:
    outcome = decide(inputs(features=features(cv_12m=0.6, growth_3m_over_prior_3m=-0.2)))
    assert outcome.admitted
    assert outcome.credit_limit == Decimal("190000.00")  # 300k * 0.8 * 0.8 = 192k, floored
    assert [r.code for r in outcome.reasons][:2] == ["L01", "L02"]


def test_the_segment_cap_bounds_the_limit() -> None:
    outcome = decide(inputs(features=features(avg_monthly_fund_pay_12m="5000000.00")))
    assert outcome.credit_limit == Decimal(POLICY["segment_caps"]["pharmacy"])
    assert "L03" not in [r.code for r in outcome.reasons]


@given(avg=st.decimals(min_value=10000, max_value=10_000_000, places=2),
       cv=st.floats(0, 2), growth=st.floats(-0.3, 1), segment=st.sampled_from(
           ["pharmacy", "clinic", "hospital"]))
def test_limits_are_whole_ten_thousands_never_above_the_cap(
        avg: Decimal, cv: float, growth: float, segment: str) -> None:
    outcome = decide(inputs(segment=segment, features=features(
        avg_monthly_fund_pay_12m=str(avg), cv_12m=cv, growth_3m_over_prior_3m=growth)))
    assert outcome.admitted
    assert outcome.credit_limit % 10000 == 0
    assert 10000 <= outcome.credit_limit <= Decimal(POLICY["segment_caps"][segment])
    assert outcome == decide(inputs(segment=segment, features=features(
        avg_monthly_fund_pay_12m=str(avg), cv_12m=cv, growth_3m_over_prior_3m=growth)))

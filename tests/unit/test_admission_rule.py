"""The whitelist model (initial version), with features built by hand so every reason can be
provoked."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from yibaodai.domain.admission import (
    INITIAL_MODEL,
    AdmissionInputs,
    AdmissionOutcome,
    WhitelistModel,
    model_from_json,
)
from yibaodai.domain.admission import decide as decide_with

MODEL = INITIAL_MODEL


def decide(i: AdmissionInputs, model: WhitelistModel = MODEL) -> AdmissionOutcome:
    return decide_with(i, model)


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
    assert outcome.credit_limit == MODEL.limit.segment_caps["pharmacy"]
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
    assert 10000 <= outcome.credit_limit <= MODEL.limit.segment_caps[segment]
    assert outcome == decide(inputs(segment=segment, features=features(
        avg_monthly_fund_pay_12m=str(avg), cv_12m=cv, growth_3m_over_prior_3m=growth)))


def test_reasons_are_ranked_in_order_one_two_three() -> None:
    outcome = decide(inputs(ownership="public", biz_stas="2"))
    assert [(r.rank, r.code) for r in outcome.reasons] == [(1, "K02"), (2, "K03")]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"designation_days_left": 30}, "K10"),
    ({"months_designated": 6}, "K11"),
    ({"months_since_last_penalty": 5}, "K05"),
])
def test_designation_and_dated_penalties_knock_out_too(overrides: dict[str, Any],
                                                       code: str) -> None:
    outcome = decide(inputs(**overrides))
    assert not outcome.admitted and [r.code for r in outcome.reasons] == [code]


def test_a_penalty_older_than_the_window_does_not_knock_out() -> None:
    assert decide(inputs(penalties_24m=0, months_since_last_penalty=30)).admitted


def test_a_weak_profile_on_many_counts_is_refused_by_the_scorecard_naming_the_worst() -> None:
    outcome = decide(inputs(cred_lv_name="B", features=features(
        months_of_history=13, avg_monthly_fund_pay_12m="15000.00", cv_12m=0.7,
        growth_3m_over_prior_3m=-0.2, zero_months_12m=3, refund_ratio=0.08)))
    assert not outcome.admitted and outcome.credit_limit == 0
    codes = [r.code for r in outcome.reasons]
    assert codes[0] == "S01" and len(codes) == 4
    assert outcome.reasons[0].values["score"] < outcome.reasons[0].values["cutoff"]
    assert codes[1] == "S11"  # size loses 30 points: the largest shortfall
    assert all(r.text_zh and r.text_en and r.values for r in outcome.reasons)


def test_every_decision_carries_its_score_model_version_and_model_hash() -> None:
    outcome = decide(inputs())
    assert outcome.score is not None and outcome.score >= MODEL.scorecards["pharmacy"].cutoff
    assert outcome.model_version == MODEL.version
    assert outcome.model_hash == MODEL.content_hash()


def test_the_model_is_data_that_round_trips_through_json_with_the_same_hash() -> None:
    data = json.loads(json.dumps(MODEL.to_json()))
    assert model_from_json(data) == MODEL
    assert model_from_json(data).content_hash() == MODEL.content_hash()


def test_changing_any_number_in_the_model_changes_its_hash_and_can_change_the_answer() -> None:
    data = MODEL.to_json()
    data["limit"]["multiple"] = "2"
    data["version"] = "test-r2"
    other = model_from_json(data)
    assert other.content_hash() != MODEL.content_hash()
    assert decide(inputs(), other).credit_limit == Decimal("200000.00")


def test_the_policy_cap_bounds_every_segment_cap() -> None:
    data = MODEL.to_json()
    data["limit"]["policy_cap"] = "500000"
    capped = decide(inputs(segment="clinic", features=features(
        avg_monthly_fund_pay_12m="5000000.00")), model_from_json(data))
    assert capped.credit_limit == Decimal("500000.00")


def _without_pharmacy_scorecard(data: dict[str, Any]) -> None:
    del data["scorecards"]["pharmacy"]


def _without_clinic_cap(data: dict[str, Any]) -> None:
    del data["limit"]["segment_caps"]["clinic"]


def _negative_history(data: dict[str, Any]) -> None:
    data["policy"]["min_months_of_history"] = -1


def _overlapping_bins(data: dict[str, Any]) -> None:
    data["scorecards"]["clinic"]["characteristics"][0]["numeric_bins"][1]["lower"] = 1.0


@pytest.mark.parametrize("breaks", [_without_pharmacy_scorecard, _without_clinic_cap,
                                    _negative_history, _overlapping_bins])
def test_invalid_model_content_is_refused(breaks: Any) -> None:
    data = MODEL.to_json()
    breaks(data)
    with pytest.raises(ValidationError):
        model_from_json(data)

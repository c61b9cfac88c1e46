"""The admission rule at its edges: every threshold just below, exactly on and just above,
the limit's rounding direction and a known model hash.

The expected values come from the bank's rule as documented (docs/admission.md, "Knock-out
policy" and "Limit formula"), written out here by hand, never read from ``INITIAL_MODEL``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from yibaodai.domain.admission import (
    INITIAL_MODEL,
    AdmissionInputs,
    AdmissionOutcome,
    canonical_json,
    content_hash_of,
    decide,
    knockouts,
)


def features(**overrides: Any) -> dict[str, Any]:
    """A healthy pharmacy: admitted at 300,000 with the single reason L03."""
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
        "biz_stas": "1", "cred_lv_name": "A", "penalties_24m": 0, "features": features(),
        "months_since_last_penalty": None, "designation_days_left": 400,
        "months_designated": 36}
    fields.update(overrides)
    return AdmissionInputs(**fields)


def codes(outcome: AdmissionOutcome) -> list[str]:
    return [r.code for r in outcome.reasons]


# --- knock-outs: one side refuses, the threshold itself and the other side pass -----------

#: (case, the inputs, knock-out expected) — the documented minimums: 12 months of history,
#: no penalty within 24 months, 10,000 yuan a month over 6 months, a fall of at most 30%,
#: 90 days of designation left, 12 months designated.
EDGES: list[tuple[str, dict[str, Any], str | None]] = [
    ("history 11 months", {"features": features(months_of_history=11)}, "K04"),
    ("history 12 months", {"features": features(months_of_history=12)}, None),
    ("history 13 months", {"features": features(months_of_history=13)}, None),
    ("penalty 23 months ago", {"months_since_last_penalty": 23, "penalties_24m": 1}, "K05"),
    ("penalty 24 months ago", {"months_since_last_penalty": 24, "penalties_24m": 0}, None),
    ("penalty 25 months ago", {"months_since_last_penalty": 25, "penalties_24m": 0}, None),
    ("penalty 0 months ago", {"months_since_last_penalty": 0, "penalties_24m": 1}, "K05"),
    ("undated penalty in 24 months", {"penalties_24m": 1}, "K05"),
    ("no penalty in 24 months", {"penalties_24m": 0}, None),
    ("6m average 9,999.99", {"features": features(avg_monthly_fund_pay_6m="9999.99")}, "K07"),
    ("6m average 10,000.00", {"features": features(avg_monthly_fund_pay_6m="10000.00")}, None),
    ("6m average 10,000.01", {"features": features(avg_monthly_fund_pay_6m="10000.01")}, None),
    ("fall of 30.01%", {"features": features(growth_3m_over_prior_3m=-0.3001)}, "K08"),
    ("fall of exactly 30%", {"features": features(growth_3m_over_prior_3m=-0.30)}, None),
    ("fall of 29.99%", {"features": features(growth_3m_over_prior_3m=-0.2999)}, None),
    ("trend unknown", {"features": features(growth_3m_over_prior_3m=None)}, None),
    ("89 days of designation left", {"designation_days_left": 89}, "K10"),
    ("90 days of designation left", {"designation_days_left": 90}, None),
    ("91 days of designation left", {"designation_days_left": 91}, None),
    ("designation end unknown", {"designation_days_left": None}, None),
    ("designated 11 months", {"months_designated": 11}, "K11"),
    ("designated 12 months", {"months_designated": 12}, None),
    ("designated 13 months", {"months_designated": 13}, None),
    ("designation start unknown", {"months_designated": None}, None),
    ("credit grade A", {"cred_lv_name": "A"}, None),
    ("credit grade B", {"cred_lv_name": "B"}, None),
    ("credit grade C", {"cred_lv_name": "C"}, "K06"),
    ("credit grade D", {"cred_lv_name": "D"}, "K06"),
    ("operating status 1", {"biz_stas": "1"}, None),
    ("operating status 0", {"biz_stas": "0"}, "K03"),
    ("private clinic", {"segment": "clinic", "ownership": "private"}, None),
    ("public hospital", {"segment": "hospital", "ownership": "public"}, "K02"),
    ("a segment not served", {"segment": "other"}, "K01"),
]


@pytest.mark.parametrize(("overrides", "expected"), [(o, e) for _, o, e in EDGES],
                         ids=[case for case, _, _ in EDGES])
def test_each_knock_out_refuses_below_its_threshold_and_admits_on_and_above_it(
        overrides: dict[str, Any], expected: str | None) -> None:
    i = inputs(**overrides)
    found = [r.code for r in knockouts(i, INITIAL_MODEL.policy)]
    outcome = decide(i, INITIAL_MODEL)
    if expected is None:
        assert found == []
        assert outcome.admitted and outcome.credit_limit > 0
    else:
        assert found == [expected]
        assert not outcome.admitted and outcome.credit_limit == 0
        assert codes(outcome) == [expected]


def test_knock_outs_name_the_documented_minimums_in_their_values_and_texts() -> None:
    i = inputs(features=features(months_of_history=11, avg_monthly_fund_pay_6m="9000",
                                 growth_3m_over_prior_3m=-0.41234),
               months_since_last_penalty=3, penalties_24m=2, designation_days_left=10,
               months_designated=5, cred_lv_name="C", biz_stas="2", segment="other",
               ownership="public")
    reasons = {r.code: r for r in knockouts(i, INITIAL_MODEL.policy)}
    assert list(reasons) == ["K01", "K02", "K03", "K04", "K05", "K06", "K07", "K08", "K10",
                             "K11"]
    assert reasons["K01"].values == {"segment": "other",
                                     "served": ["pharmacy", "clinic", "hospital"]}
    assert reasons["K02"].values == {"ownership": "public"}
    assert reasons["K03"].values == {"biz_stas": "2"}
    assert reasons["K04"].values == {"months_of_history": 11, "minimum": 12}
    assert reasons["K04"].text_zh == "医保结算历史不足12个月"
    assert reasons["K05"].values == {"penalties_24m": 2, "months_since_last_penalty": 3}
    assert reasons["K05"].text_zh == "近24个月有医保处罚或暂停记录"
    assert reasons["K06"].values == {"cred_lv_name": "C"}
    assert reasons["K07"].values == {"avg_monthly_fund_pay_6m": "9000",
                                     "minimum": "10000.00"}
    assert reasons["K07"].text_zh == "近6个月月均统筹支付低于10,000元"
    assert reasons["K08"].values == {"growth_3m_over_prior_3m": -0.4123}
    assert reasons["K08"].text_zh == "近3个月结算收入较前3个月下降超过30%"
    assert reasons["K10"].values == {"designation_days_left": 10, "minimum": 90}
    assert reasons["K10"].text_zh == "医保定点协议剩余有效期不足90天"
    assert reasons["K11"].values == {"months_designated": 5, "minimum": 12}
    assert reasons["K11"].text_zh == "成为医保定点机构不足12个月"
    outcome = decide(i, INITIAL_MODEL)
    assert [r.rank for r in outcome.reasons] == list(range(1, 11))


def test_a_knock_out_still_records_the_score_of_a_scored_segment() -> None:
    refused = decide(inputs(features=features(months_of_history=11)), INITIAL_MODEL)
    assert refused.score is not None and refused.score > 70
    assert decide(inputs(segment="other"), INITIAL_MODEL).score is None


# --- the scorecard cut-off: 70 points are enough ------------------------------------------

#: 10 (12-month average below 20,000) + 30 (cv below 0.2) + 15 (growth in [-10%, 0)) + 5 (12
#: months of history) + 0 (two months without settlement) + 0 (grade neither A nor B) + 10
#: (refund ratio below 2%) = 70, exactly the documented cut-off.
ON_THE_CUT_OFF = features(avg_monthly_fund_pay_12m="15000", avg_monthly_fund_pay_6m="15000",
                          cv_12m=0.1, growth_3m_over_prior_3m=-0.05, months_of_history=12,
                          zero_months_12m=2, refund_ratio=0.01)


def test_a_pharmacy_scoring_exactly_the_cut_off_is_admitted() -> None:
    outcome = decide(inputs(features=ON_THE_CUT_OFF, cred_lv_name="X"), INITIAL_MODEL)
    assert outcome.score == 70
    assert outcome.admitted and outcome.credit_limit == Decimal("40000.00")


def test_a_pharmacy_four_points_below_the_cut_off_is_refused_naming_the_worst_three() -> None:
    # refund ratio 3% earns 6 instead of 10: 66 points
    outcome = decide(inputs(features={**ON_THE_CUT_OFF, "refund_ratio": 0.03},
                            cred_lv_name="X"), INITIAL_MODEL)
    assert outcome.score == 66 and not outcome.admitted and outcome.credit_limit == 0
    s01 = outcome.reasons[0]
    assert (s01.code, s01.values) == ("S01", {"score": 66, "cutoff": 70,
                                              "segment": "pharmacy"})
    # shortfalls: size 30, grade 20, history 15, zero months 15, growth 10, refund 4, cv 0;
    # the tie of 15 keeps the card's order (history before months without settlement)
    assert codes(outcome) == ["S01", "S11", "S16", "S14"]
    size = outcome.reasons[1]
    assert size.values == {"avg_monthly_fund_pay_12m": "15000", "bin": "[-inf, 20000)",
                           "points": 10, "max_points": 40}
    assert (size.text_zh, size.rank) == ("近12个月月均统筹支付规模较小", 2)


# --- the limit ---------------------------------------------------------------------------


def limit_for(avg_12m: str, **overrides: Any) -> AdmissionOutcome:
    return decide(inputs(features=features(avg_monthly_fund_pay_12m=avg_12m, **overrides)),
                  INITIAL_MODEL)


def test_the_limit_is_rounded_down_to_whole_ten_thousands_never_up() -> None:
    # 3 x 103,333.33 = 309,999.99: 31 units when rounded to nearest, but only 30 are lent
    outcome = limit_for("103333.33")
    assert outcome.admitted and outcome.credit_limit == Decimal("300000.00")
    assert outcome.reasons[0].values == {"base": "309999.99", "cap": "1000000"}
    assert outcome.reasons[0].text_zh == "额度按近12个月月均统筹支付的3倍测算，低于产品上限"


def test_a_limit_below_ten_thousand_is_refused_not_admitted_at_zero() -> None:
    # 3 x 3,333.33 = 9,999.99 rounds down to 0
    outcome = limit_for("3333.33")
    assert not outcome.admitted and outcome.credit_limit == 0
    assert codes(outcome) == ["K09", "L03"]
    assert outcome.reasons[0].values == {"limit": "0"}
    assert outcome.reasons[0].text_zh == "测算额度不足10,000元"


def test_a_limit_of_exactly_ten_thousand_is_admitted() -> None:
    outcome = limit_for("3333.34")  # 10,000.02
    assert outcome.admitted and outcome.credit_limit == Decimal("10000.00")


def test_a_cv_of_exactly_one_half_keeps_the_full_limit_and_above_it_cuts_a_fifth() -> None:
    assert limit_for("100000", cv_12m=0.5).credit_limit == Decimal("300000.00")
    cut = limit_for("100000", cv_12m=0.5001)
    assert cut.credit_limit == Decimal("240000.00")
    assert codes(cut) == ["L01", "L03"]
    assert cut.reasons[0].values == {"cv_12m": 0.5001, "threshold": 0.5}
    assert cut.reasons[0].text_zh == "月度结算波动较大，额度下调20%"
    assert limit_for("100000", cv_12m=None).credit_limit == Decimal("300000.00")


def test_a_fall_of_exactly_ten_percent_keeps_the_full_limit_and_more_cuts_a_fifth() -> None:
    assert limit_for("100000", growth_3m_over_prior_3m=-0.10).credit_limit == \
        Decimal("300000.00")
    cut = limit_for("100000", growth_3m_over_prior_3m=-0.1001)
    assert cut.credit_limit == Decimal("240000.00")
    assert codes(cut) == ["L02", "L03"]
    assert cut.reasons[0].values == {"growth_3m_over_prior_3m": -0.1001, "threshold": -0.1}
    assert cut.reasons[0].text_zh == "结算收入呈下降趋势，额度下调20%"
    assert limit_for("100000", growth_3m_over_prior_3m=None).credit_limit == \
        Decimal("300000.00")


@pytest.mark.parametrize(("segment", "avg_12m", "cap"), [
    ("pharmacy", "333333.34", "1000000.00"),
    ("clinic", "666666.67", "2000000.00"),
    ("hospital", "1000000.01", "3000000.00"),
])
def test_each_segment_is_capped_at_its_documented_cap(segment: str, avg_12m: str,
                                                       cap: str) -> None:
    outcome = decide(inputs(segment=segment, features=features(
        avg_monthly_fund_pay_12m=avg_12m)), INITIAL_MODEL)
    assert outcome.admitted and outcome.credit_limit == Decimal(cap)
    assert codes(outcome) == []


def test_a_limit_exactly_on_the_cap_is_lent_in_full_and_says_it_is_the_formula() -> None:
    outcome = decide(inputs(segment="hospital", features=features(
        avg_monthly_fund_pay_12m="1000000")), INITIAL_MODEL)
    assert outcome.credit_limit == Decimal("3000000.00")
    assert codes(outcome) == ["L03"]


def test_a_policy_cap_below_the_segment_cap_wins() -> None:
    content = INITIAL_MODEL.to_json()
    content["limit"]["policy_cap"] = "500000"
    model = type(INITIAL_MODEL).model_validate(content)
    assert model.cap_for("pharmacy") == Decimal("500000")
    outcome = decide(inputs(features=features(avg_monthly_fund_pay_12m="200000")), model)
    assert outcome.credit_limit == Decimal("500000.00")


# --- the model's hash --------------------------------------------------------------------


def test_canonical_json_sorts_keys_keeps_chinese_and_has_no_spaces() -> None:
    assert canonical_json({"b": 1, "a": "医保", "c": [2, 1]}) == '{"a":"医保","b":1,"c":[2,1]}'


def test_the_hash_is_sm3_of_the_canonical_json() -> None:
    # SM3("abc") is the standard's first example (GB/T 32905-2016, appendix A)
    assert content_hash_of({"b": 1, "a": "é"}) == content_hash_of({"a": "é", "b": 1})
    assert content_hash_of({"b": 1, "a": "é"}) == (
        "95a9b17bfbec540b966eb3643a55cf80d0eafb8f5b26a65ef4d69ff589c8c852")


def test_the_initial_model_has_the_hash_recorded_in_every_decision_since_its_release() -> None:
    expected = "d27cead968d6b1b7f2eac603e79d892fba551400dea7b8cccd65fb7ed910bd62"
    assert INITIAL_MODEL.content_hash() == expected
    assert decide(inputs(), INITIAL_MODEL).model_hash == expected


def test_reasons_are_stored_as_plain_records_in_rank_order() -> None:
    outcome = limit_for("100000", cv_12m=0.6)
    assert outcome.reasons_json() == [
        {"code": "L01", "text_zh": "月度结算波动较大，额度下调20%",
         "text_en": "monthly settlement is unstable; limit reduced by 20%",
         "values": {"cv_12m": 0.6, "threshold": 0.5}, "rank": 1},
        {"code": "L03", "text_zh": "额度按近12个月月均统筹支付的3倍测算，低于产品上限",
         "text_en": "limit is 3x the 12-month average monthly fund payment, below cap",
         "values": {"base": "300000.00", "cap": "1000000"}, "rank": 2}]
    assert outcome.rule_version == outcome.model_version == "whitelist-rule-2026.11-r1"

"""The facts a whitelist scorecard may score, with the business's expectation of each.

One row per fact the admission engine hands a scorecard (``domain.admission.scoring_facts``:
the settlement features of ``features/definitions.py`` plus profile facts). Each row carries the
reason code and texts a refusal names it by, and the direction the business expects the bad
rate to move as the value grows — binning is forced to be monotonic that way, so a model can
never reward a falling income or a longer silence. ``None`` leaves the shape to the data
(optbinning's ``auto``), for shares whose meaning depends on the kind of institution.

Codes S11-S17 are the initial rule's (docs/admission.md); S18 onwards are new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Trend = Literal["ascending", "descending"] | None


@dataclass(frozen=True)
class Fact:
    reason_code: str
    text_zh: str
    text_en: str
    #: How the bad rate moves as the value grows ("ascending": more value, more bads).
    trend: Trend
    categorical: bool = False


_UP: Final = "ascending"
_DOWN: Final = "descending"

CATALOGUE: dict[str, Fact] = {
    "avg_monthly_fund_pay_12m": Fact("S11", "近12个月月均统筹支付规模较小",
                                     "small 12-month average monthly fund payment", _DOWN),
    "cv_12m": Fact("S12", "月度结算稳定性较差", "monthly settlement is unstable", _UP),
    "growth_3m_over_prior_3m": Fact("S13", "近3个月结算收入趋势偏弱",
                                    "weak settlement trend over the last 3 months", _DOWN),
    "months_of_history": Fact("S14", "医保结算历史较短", "short settlement history", _DOWN),
    "zero_months_12m": Fact("S15", "近12个月有无结算的月份", "months without settlement", _UP),
    "cred_lv_name": Fact("S16", "医保信用等级一般", "middling bureau credit grade", None,
                         categorical=True),
    "refund_ratio": Fact("S17", "退费结算比例偏高", "high share of refunded settlements", _UP),
    "avg_monthly_fund_pay_6m": Fact("S18", "近6个月月均统筹支付规模较小",
                                    "small 6-month average monthly fund payment", _DOWN),
    "avg_monthly_fund_pay_3m": Fact("S19", "近3个月月均统筹支付规模较小",
                                    "small 3-month average monthly fund payment", _DOWN),
    "avg_monthly_medfee_12m": Fact("S20", "近12个月月均医疗费规模较小",
                                   "small 12-month average monthly settlement amount", _DOWN),
    "growth_yoy_12m": Fact("S21", "近12个月结算收入同比偏弱",
                           "weak year-over-year growth over 12 months", _DOWN),
    "growth_3m_yoy": Fact("S22", "近3个月结算收入同比偏弱",
                          "weak year-over-year growth over 3 months", _DOWN),
    "growth_3m_over_prior_3m_yoy_adj": Fact("S23", "季节调整后近3个月趋势偏弱",
                                            "weak seasonally adjusted 3-month trend", _DOWN),
    "trend_slope_12m": Fact("S24", "近12个月结算趋势向下", "downward 12-month settlement trend",
                            _DOWN),
    "worst_mom_drop_12m": Fact("S25", "近12个月出现较大月度降幅",
                               "a large month-on-month drop in the last 12 months", _DOWN),
    "missing_months_12m": Fact("S26", "近12个月有缺数月份",
                               "months without any data in the last 12", _UP),
    "days_since_last_settlement": Fact("S27", "距最近一次结算时间较长",
                                       "long since the last settlement", _UP),
    "setl_cnt_12m": Fact("S28", "近12个月结算笔数较少", "few settlements in the last 12 months",
                         _DOWN),
    "fund_share_12m": Fact("S29", "基金支付占比异常", "unusual fund share of settlement", None),
    "acct_share_12m": Fact("S30", "个人账户支付占比异常", "unusual personal-account share",
                           None),
    "cash_share_12m": Fact("S31", "个人现金支付占比异常", "unusual cash share", None),
    "pooled_fund_share_12m": Fact("S32", "统筹基金支付占比异常", "unusual pooled-fund share",
                                  None),
    "months_designated": Fact("S33", "成为医保定点机构时间较短", "designated for a short time",
                              _DOWN),
    "designation_days_left": Fact("S34", "医保定点协议剩余期限较短",
                                  "the designation agreement ends soon", _DOWN),
    "penalties_24m": Fact("S35", "近24个月有医保处罚或暂停记录",
                          "penalties or suspensions in the last 24 months", _UP),
}


def fact_for(feature: str) -> Fact:
    """The catalogue row, or a generic one for a column of some other labelled table (such a
    card can be validated and benchmarked, not exported: ``export`` refuses it)."""
    return CATALOGUE.get(feature) or Fact("S99", f"评分项“{feature}”得分偏低",
                                          f"low points on {feature}", None)

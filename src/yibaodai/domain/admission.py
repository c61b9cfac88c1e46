"""The whitelist rule: knock-outs, then a limit from trailing fund payments, with reasons.

Pure: takes the institution's profile facts and settlement features, returns an outcome with
ranked reasons in Chinese and English and the values that caused them. The rule's content is
versioned and hashed into every decision so replay can prove it gave the same answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

RULE_VERSION = "whitelist-rule-2026.11-r1"

POLICY: dict[str, Any] = {
    "served_segments": ["pharmacy", "clinic", "hospital"],
    "refused_ownership": ["public"],
    "min_months_of_history": 12,
    "penalty_window_months": 24,
    "refused_credit_grades": ["C", "D"],
    "min_avg_monthly_fund_pay": "10000.00",
    "max_decline_3m": -0.30,
    "limit_multiple": "3",
    "unstable_cv": 0.5,
    "unstable_factor": "0.8",
    "declining_growth": -0.10,
    "declining_factor": "0.8",
    "segment_caps": {"pharmacy": "1000000", "clinic": "2000000", "hospital": "3000000"},
    "limit_unit": "10000",
}


@dataclass(frozen=True)
class Reason:
    code: str
    text_zh: str
    text_en: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdmissionInputs:
    fixmedins_code: str
    segment: str
    ownership: str
    biz_stas: str
    cred_lv_name: str
    penalties_24m: int
    features: dict[str, Any]


@dataclass(frozen=True)
class AdmissionOutcome:
    admitted: bool
    credit_limit: Decimal
    reasons: tuple[Reason, ...]
    rule_version: str = RULE_VERSION

    def reasons_json(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.reasons]


def rule_hash() -> str:
    canonical = json.dumps({"version": RULE_VERSION, "policy": POLICY}, sort_keys=True)
    return hashlib.new("sm3", canonical.encode()).hexdigest()


def _knockouts(i: AdmissionInputs) -> list[Reason]:
    f = i.features
    out: list[Reason] = []
    if i.segment not in POLICY["served_segments"]:
        out.append(Reason("K01", "机构类型不在服务范围", "institution type not served",
                          {"segment": i.segment}))
    if i.ownership in POLICY["refused_ownership"]:
        out.append(Reason("K02", "公立医疗机构不在本产品服务范围",
                          "public institutions are not served by this product",
                          {"ownership": i.ownership}))
    if i.biz_stas != "1":
        out.append(Reason("K03", "经营状态非正常", "operating status is not normal",
                          {"biz_stas": i.biz_stas}))
    if f["months_of_history"] < POLICY["min_months_of_history"]:
        out.append(Reason("K04", "医保结算历史不足12个月",
                          "less than 12 months of settlement history",
                          {"months_of_history": f["months_of_history"]}))
    if i.penalties_24m > 0:
        out.append(Reason("K05", "近24个月有医保处罚或暂停记录",
                          "penalty or suspension in the last 24 months",
                          {"penalties_24m": i.penalties_24m}))
    if i.cred_lv_name in POLICY["refused_credit_grades"]:
        out.append(Reason("K06", "医保信用等级不符合准入要求",
                          "the bureau's credit grade is below the admission bar",
                          {"cred_lv_name": i.cred_lv_name}))
    avg6 = Decimal(f["avg_monthly_fund_pay_6m"])
    if avg6 < Decimal(POLICY["min_avg_monthly_fund_pay"]):
        out.append(Reason("K07", "近6个月月均统筹支付低于1万元",
                          "average monthly fund payment over 6 months below 10,000 yuan",
                          {"avg_monthly_fund_pay_6m": str(avg6)}))
    growth = f["growth_3m_over_prior_3m"]
    if growth is not None and growth < POLICY["max_decline_3m"]:
        out.append(Reason("K08", "近3个月结算收入较前3个月下降超过30%",
                          "last 3 months' settlement income fell over 30% from the 3 before",
                          {"growth_3m_over_prior_3m": round(growth, 4)}))
    return out


def decide(i: AdmissionInputs) -> AdmissionOutcome:
    knockouts = _knockouts(i)
    if knockouts:
        return AdmissionOutcome(False, Decimal("0.00"), tuple(knockouts))
    f = i.features
    reasons: list[Reason] = []
    base = Decimal(f["avg_monthly_fund_pay_12m"]) * Decimal(POLICY["limit_multiple"])
    limit = base
    cv = f["cv_12m"]
    if cv is not None and cv > POLICY["unstable_cv"]:
        limit *= Decimal(POLICY["unstable_factor"])
        reasons.append(Reason("L01", "月度结算波动较大，额度下调20%",
                              "monthly settlement is unstable; limit reduced by 20%",
                              {"cv_12m": round(cv, 4)}))
    growth = f["growth_3m_over_prior_3m"]
    if growth is not None and growth < POLICY["declining_growth"]:
        limit *= Decimal(POLICY["declining_factor"])
        reasons.append(Reason("L02", "结算收入呈下降趋势，额度下调20%",
                              "settlement income is declining; limit reduced by 20%",
                              {"growth_3m_over_prior_3m": round(growth, 4)}))
    cap = Decimal(POLICY["segment_caps"][i.segment])
    if limit > cap:
        limit = cap
    else:
        reasons.append(Reason("L03", "额度按近12个月月均统筹支付的3倍测算，低于产品上限",
                              "limit is 3x the 12-month average monthly fund payment, below cap",
                              {"base": str(base.quantize(Decimal('0.01'))), "cap": str(cap)}))
    unit = Decimal(POLICY["limit_unit"])
    limit = (limit / unit).to_integral_value(rounding=ROUND_FLOOR) * unit
    if limit < unit:
        return AdmissionOutcome(False, Decimal("0.00"), (Reason(
            "K09", "测算额度不足1万元", "computed limit below 10,000 yuan",
            {"limit": str(limit)}), *reasons))
    return AdmissionOutcome(True, limit.quantize(Decimal("0.01")), tuple(reasons))

"""The whitelist model: knock-outs, a segment scorecard, then a limit, with ranked reasons.

Pure. The model's whole content — policy, scorecards, limit rule — is DATA
(:class:`WhitelistModel`, validated, JSON-serialisable and SM3-hashed); it is stored in a model
version and hashed into every decision, so replay can prove it gave the same answer.
``decide(inputs, model)`` takes the institution's profile facts and settlement features and
returns an outcome with ranked reasons in Chinese and English and the values that caused them.

Order of judgement: knock-outs (K01-K11, any one refuses), then the segment scorecard (S01 and
the characteristics that cost the most points), then the limit (L01-L03; K09 if it rounds below
one unit). See docs/admission.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yibaodai.domain.scorecard import (
    CategoryBin,
    Characteristic,
    NumericBin,
    Scorecard,
    score,
)

#: How many scorecard characteristics a score refusal names, largest shortfall first.
SCORE_REASONS = 3


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Policy(_Frozen):
    """Knock-out policy (bank credit policy, not statistics)."""

    served_segments: tuple[str, ...]
    refused_ownership: tuple[str, ...]
    normal_biz_stas: tuple[str, ...]
    min_months_of_history: int = Field(ge=0)
    penalty_window_months: int = Field(ge=0)
    refused_credit_grades: tuple[str, ...]
    min_avg_monthly_fund_pay: Decimal = Field(ge=0)
    max_decline_3m: float
    min_designation_days_left: int = Field(ge=0)
    min_months_designated: int = Field(ge=0)


class LimitRule(_Frozen):
    """limit = floor_unit(min(multiple x basis x stability x trend, segment cap, policy cap))."""

    basis_feature: str
    multiple: Decimal = Field(gt=0)
    unstable_cv: float
    unstable_factor: Decimal = Field(gt=0, le=1)
    declining_growth: float
    declining_factor: Decimal = Field(gt=0, le=1)
    segment_caps: dict[str, Decimal]
    policy_cap: Decimal = Field(gt=0)
    unit: Decimal = Field(gt=0)


class WhitelistModel(_Frozen):
    """The content of one model version."""

    version: str = Field(min_length=1, max_length=40)
    description: str = ""
    policy: Policy
    scorecards: dict[str, Scorecard]
    limit: LimitRule

    @model_validator(mode="after")
    def _every_served_segment_is_scored_and_capped(self) -> WhitelistModel:
        for seg in self.policy.served_segments:
            if seg not in self.scorecards:
                raise ValueError(f"served segment {seg!r} has no scorecard")
            if seg not in self.limit.segment_caps:
                raise ValueError(f"served segment {seg!r} has no limit cap")
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        return content_hash_of(self.to_json())

    def cap_for(self, segment: str) -> Decimal:
        return min(self.limit.segment_caps[segment], self.limit.policy_cap)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash_of(model_json: dict[str, Any]) -> str:
    return hashlib.new("sm3", canonical_json(model_json).encode()).hexdigest()


@dataclass(frozen=True)
class Reason:
    code: str
    text_zh: str
    text_en: str
    values: dict[str, Any] = field(default_factory=dict)
    rank: int = 0


@dataclass(frozen=True)
class AdmissionInputs:
    fixmedins_code: str
    segment: str
    ownership: str
    biz_stas: str
    cred_lv_name: str
    penalties_24m: int
    features: dict[str, Any]
    #: None: not known (older stored inputs, or no designation dates in the profile).
    months_since_last_penalty: int | None = None
    designation_days_left: int | None = None
    months_designated: int | None = None


@dataclass(frozen=True)
class AdmissionOutcome:
    admitted: bool
    credit_limit: Decimal
    reasons: tuple[Reason, ...]
    score: int | None
    model_version: str
    model_hash: str

    @property
    def rule_version(self) -> str:
        return self.model_version

    def reasons_json(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.reasons]


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def _yuan(x: Decimal) -> str:
    return f"{x:,.0f}"


def knockouts(i: AdmissionInputs, p: Policy) -> list[Reason]:
    """Every knock-out that applies, in the documented order (empty: the policy admits)."""
    f = i.features
    out: list[Reason] = []
    if i.segment not in p.served_segments:
        out.append(Reason("K01", "机构类型不在服务范围", "institution type not served",
                          {"segment": i.segment, "served": list(p.served_segments)}))
    if i.ownership in p.refused_ownership:
        out.append(Reason("K02", "公立医疗机构不在本产品服务范围",
                          "public institutions are not served by this product",
                          {"ownership": i.ownership}))
    if i.biz_stas not in p.normal_biz_stas:
        out.append(Reason("K03", "经营状态非正常", "operating status is not normal",
                          {"biz_stas": i.biz_stas}))
    if f["months_of_history"] < p.min_months_of_history:
        n = p.min_months_of_history
        out.append(Reason("K04", f"医保结算历史不足{n}个月",
                          f"less than {n} months of settlement history",
                          {"months_of_history": f["months_of_history"], "minimum": n}))
    w = p.penalty_window_months
    penalised = (i.months_since_last_penalty < w if i.months_since_last_penalty is not None
                 else i.penalties_24m > 0 and w >= 24)
    if penalised:
        out.append(Reason("K05", f"近{w}个月有医保处罚或暂停记录",
                          f"penalty or suspension in the last {w} months",
                          {"penalties_24m": i.penalties_24m,
                           "months_since_last_penalty": i.months_since_last_penalty}))
    if i.cred_lv_name in p.refused_credit_grades:
        out.append(Reason("K06", "医保信用等级不符合准入要求",
                          "the bureau's credit grade is below the admission bar",
                          {"cred_lv_name": i.cred_lv_name}))
    avg6 = Decimal(f["avg_monthly_fund_pay_6m"])
    if avg6 < p.min_avg_monthly_fund_pay:
        m = _yuan(p.min_avg_monthly_fund_pay)
        out.append(Reason("K07", f"近6个月月均统筹支付低于{m}元",
                          f"average monthly fund payment over 6 months below {m} yuan",
                          {"avg_monthly_fund_pay_6m": str(avg6),
                           "minimum": str(p.min_avg_monthly_fund_pay)}))
    growth = f["growth_3m_over_prior_3m"]
    if growth is not None and growth < p.max_decline_3m:
        d = _pct(-p.max_decline_3m)
        out.append(Reason("K08", f"近3个月结算收入较前3个月下降超过{d}",
                          f"last 3 months' settlement income fell over {d} from the 3 before",
                          {"growth_3m_over_prior_3m": round(growth, 4)}))
    if i.designation_days_left is not None and \
            i.designation_days_left < p.min_designation_days_left:
        n = p.min_designation_days_left
        out.append(Reason("K10", f"医保定点协议剩余有效期不足{n}天",
                          f"the designation agreement ends in under {n} days",
                          {"designation_days_left": i.designation_days_left, "minimum": n}))
    if i.months_designated is not None and i.months_designated < p.min_months_designated:
        n = p.min_months_designated
        out.append(Reason("K11", f"成为医保定点机构不足{n}个月",
                          f"designated for less than {n} months",
                          {"months_designated": i.months_designated, "minimum": n}))
    return out


def scoring_facts(i: AdmissionInputs) -> dict[str, Any]:
    """What a scorecard may bin: the settlement features plus profile facts."""
    return {**i.features, "cred_lv_name": i.cred_lv_name, "penalties_24m": i.penalties_24m,
            "months_designated": i.months_designated,
            "designation_days_left": i.designation_days_left}


def _ranked(reasons: list[Reason]) -> tuple[Reason, ...]:
    return tuple(replace(r, rank=n) for n, r in enumerate(reasons, start=1))


def decide(i: AdmissionInputs, model: WhitelistModel) -> AdmissionOutcome:
    mhash = model.content_hash()

    def outcome(admitted: bool, limit: Decimal, reasons: list[Reason],
                points: int | None) -> AdmissionOutcome:
        return AdmissionOutcome(admitted, limit.quantize(Decimal("0.01")), _ranked(reasons),
                                points, model.version, mhash)

    card = model.scorecards.get(i.segment)
    result = score(card, scoring_facts(i)) if card is not None else None
    points = result.total if result is not None else None
    found = knockouts(i, model.policy)
    if found:
        return outcome(False, Decimal(0), found, points)
    assert card is not None and result is not None  # served segments have scorecards
    if not result.passes(card):
        reasons = [Reason("S01", "白名单模型评分低于准入分数线",
                          "whitelist scorecard points below the admission cut-off",
                          {"score": result.total, "cutoff": card.cutoff,
                           "segment": i.segment})]
        by_feature = {c.feature: c for c in card.characteristics}
        for c in result.ranked_shortfalls()[:SCORE_REASONS]:
            ch = by_feature[c.feature]
            reasons.append(Reason(ch.reason_code, ch.text_zh, ch.text_en, {
                c.feature: c.value, "bin": c.bin, "points": c.points,
                "max_points": c.points + c.shortfall}))
        return outcome(False, Decimal(0), reasons, points)
    return _limit(i, model, points, outcome)


_Outcome = Callable[[bool, Decimal, list[Reason], int | None], AdmissionOutcome]


def _limit(i: AdmissionInputs, model: WhitelistModel, points: int | None,
           outcome: _Outcome) -> AdmissionOutcome:
    rule = model.limit
    f = i.features
    reasons: list[Reason] = []
    base = Decimal(f[rule.basis_feature]) * rule.multiple
    limit = base
    cv = f["cv_12m"]
    if cv is not None and cv > rule.unstable_cv:
        limit *= rule.unstable_factor
        cut = _pct(float(1 - rule.unstable_factor))
        reasons.append(Reason("L01", f"月度结算波动较大，额度下调{cut}",
                              f"monthly settlement is unstable; limit reduced by {cut}",
                              {"cv_12m": round(cv, 4), "threshold": rule.unstable_cv}))
    growth = f["growth_3m_over_prior_3m"]
    if growth is not None and growth < rule.declining_growth:
        limit *= rule.declining_factor
        cut = _pct(float(1 - rule.declining_factor))
        reasons.append(Reason("L02", f"结算收入呈下降趋势，额度下调{cut}",
                              f"settlement income is declining; limit reduced by {cut}",
                              {"growth_3m_over_prior_3m": round(growth, 4),
                               "threshold": rule.declining_growth}))
    cap = model.cap_for(i.segment)
    if limit > cap:
        limit = cap
    else:
        k = f"{rule.multiple:g}"
        reasons.append(Reason("L03", f"额度按近12个月月均统筹支付的{k}倍测算，低于产品上限",
                              f"limit is {k}x the 12-month average monthly fund payment, "
                              "below cap",
                              {"base": str(base.quantize(Decimal("0.01"))), "cap": str(cap)}))
    unit = rule.unit
    limit = (limit / unit).to_integral_value(rounding=ROUND_FLOOR) * unit
    if limit < unit:
        u = _yuan(unit)
        return outcome(False, Decimal(0), [Reason(
            "K09", f"测算额度不足{u}元", f"computed limit below {u} yuan",
            {"limit": str(limit)}), *reasons], points)
    return outcome(True, limit, reasons, points)


# --- the initial model: today's rule, as data --------------------------------------------


def _num(*edges_points: tuple[float | None, float | None, int]) -> tuple[NumericBin, ...]:
    return tuple(NumericBin(lower=lo, upper=hi, points=p) for lo, hi, p in edges_points)


def _card(size_edges: tuple[float, float, float], cutoff: int) -> Scorecard:
    a, b, c = size_edges
    return Scorecard(base_points=0, cutoff=cutoff, characteristics=(
        Characteristic(feature="avg_monthly_fund_pay_12m", reason_code="S11",
                       text_zh="近12个月月均统筹支付规模较小",
                       text_en="small 12-month average monthly fund payment",
                       numeric_bins=_num((None, a, 10), (a, b, 20), (b, c, 30), (c, None, 40))),
        Characteristic(feature="cv_12m", reason_code="S12", text_zh="月度结算稳定性较差",
                       text_en="monthly settlement is unstable", missing_points=6,
                       numeric_bins=_num((None, 0.2, 30), (0.2, 0.35, 22), (0.35, 0.5, 14),
                                         (0.5, None, 6))),
        Characteristic(feature="growth_3m_over_prior_3m", reason_code="S13",
                       text_zh="近3个月结算收入趋势偏弱",
                       text_en="weak settlement trend over the last 3 months",
                       missing_points=10,
                       numeric_bins=_num((None, -0.1, 5), (-0.1, 0.0, 15), (0.0, 0.1, 22),
                                         (0.1, None, 25))),
        Characteristic(feature="months_of_history", reason_code="S14",
                       text_zh="医保结算历史较短", text_en="short settlement history",
                       numeric_bins=_num((None, 18, 5), (18, 24, 12), (24, None, 20))),
        Characteristic(feature="zero_months_12m", reason_code="S15",
                       text_zh="近12个月有无结算的月份", text_en="months without settlement",
                       missing_points=10,
                       numeric_bins=_num((None, 1, 15), (1, 2, 8), (2, None, 0))),
        Characteristic(feature="cred_lv_name", reason_code="S16",
                       text_zh="医保信用等级一般", text_en="middling bureau credit grade",
                       category_bins=(CategoryBin(values=("A",), points=20),
                                      CategoryBin(values=("B",), points=12)),
                       missing_points=0, other_points=0),
        Characteristic(feature="refund_ratio", reason_code="S17",
                       text_zh="退费结算比例偏高", text_en="high share of refunded settlements",
                       missing_points=5,
                       numeric_bins=_num((None, 0.02, 10), (0.02, 0.05, 6), (0.05, None, 0))),
    ))


INITIAL_MODEL = WhitelistModel(
    version="whitelist-rule-2026.11-r1",
    description="今日规则（准入政策、分段评分卡、额度公式）/ today's rule as the first version",
    policy=Policy(
        served_segments=("pharmacy", "clinic", "hospital"),
        refused_ownership=("public",),
        normal_biz_stas=("1",),
        min_months_of_history=12,
        penalty_window_months=24,
        refused_credit_grades=("C", "D"),
        min_avg_monthly_fund_pay=Decimal("10000.00"),
        max_decline_3m=-0.30,
        min_designation_days_left=90,
        min_months_designated=12,
    ),
    scorecards={
        "pharmacy": _card((20_000, 50_000, 150_000), cutoff=70),
        "clinic": _card((30_000, 80_000, 250_000), cutoff=70),
        "hospital": _card((50_000, 150_000, 500_000), cutoff=70),
    },
    limit=LimitRule(
        basis_feature="avg_monthly_fund_pay_12m",
        multiple=Decimal("3"),
        unstable_cv=0.5, unstable_factor=Decimal("0.8"),
        declining_growth=-0.10, declining_factor=Decimal("0.8"),
        segment_caps={"pharmacy": Decimal("1000000"), "clinic": Decimal("2000000"),
                      "hospital": Decimal("3000000")},
        policy_cap=Decimal("3000000"),
        unit=Decimal("10000"),
    ),
)

#: Kept for readers of older code: the initial model's version label.
RULE_VERSION = INITIAL_MODEL.version


def model_from_json(data: dict[str, Any]) -> WhitelistModel:
    """Validate stored content (raises pydantic.ValidationError with field paths)."""
    return WhitelistModel.model_validate(data)

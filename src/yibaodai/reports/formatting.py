"""Decision reasons, inputs and warning figures formatted for people: feature names in Chinese
and English, amounts in 元 with thousands separators, ratios as percentages, never a raw float,
``None`` or a key twice. Pure.

The catalogue also says which values are *settlement figures* (amounts, ratios and counts
derived from the bureau's settlement data). Only department managers and above see them
(DESIGN step 9); for everyone else they are left out of reasons and inputs, and a key the
catalogue does not know is left out too (fail closed)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from yibaodai.reports.labels import BIZ_STAS, EVENT_TYPES, INSTITUTION_TYPES, Names, name

Kind = Literal["money", "ratio", "count", "months", "days", "text", "score", "date",
               "segment", "segments", "biz_stas", "ownership", "event_type"]


@dataclass(frozen=True)
class Field:
    label_zh: str
    label_en: str
    kind: Kind
    settlement: bool


def _f(zh: str, en: str, kind: Kind, settlement: bool = True) -> Field:
    return Field(zh, en, kind, settlement)


CATALOGUE: dict[str, Field] = {
    "months_of_history": _f("结算历史月数", "Months of settlement history", "months"),
    "setl_cnt_12m": _f("近12个月结算笔数", "Settlements, 12 months", "count"),
    "refd_setl_cnt_12m": _f("近12个月退费笔数", "Refunded settlements, 12 months", "count"),
    "growth_yoy_12m": _f("近12个月同比增长", "Year-over-year growth, 12 months", "ratio"),
    "growth_3m_yoy": _f("近3个月同比增长", "Year-over-year growth, 3 months", "ratio"),
    "growth_3m_over_prior_3m": _f("近3个月环比前3个月", "Last 3 months over the prior 3",
                                  "ratio"),
    "growth_3m_over_prior_3m_yoy_adj": _f("季节调整环比", "3-over-3, seasonally adjusted",
                                          "ratio"),
    "trend_slope_12m": _f("趋势斜率（每月）", "Trend slope (per month)", "ratio"),
    "cv_12m": _f("月度变异系数", "Coefficient of variation", "ratio"),
    "worst_mom_drop_12m": _f("最大月环比变化", "Worst month-over-month change", "ratio"),
    "zero_months_12m": _f("零结算月数", "Months without settlement", "months"),
    "missing_months_12m": _f("无数据月数", "Months without data", "months"),
    "days_since_last_settlement": _f("距最近结算天数", "Days since last settlement", "days"),
    "refund_ratio": _f("退费率", "Refund ratio", "ratio"),
    "fund_share_12m": _f("基金支付占比", "Fund share", "ratio"),
    "pooled_fund_share_12m": _f("统筹基金占比", "Pooled-fund share", "ratio"),
    "acct_share_12m": _f("个人账户占比", "Personal-account share", "ratio"),
    "cash_share_12m": _f("个人现金占比", "Cash share", "ratio"),
    "base": _f("测算基数（月均统筹支付×倍数）", "Basis (monthly mean fund payment × multiple)",
               "money"),
    "limit": _f("测算额度", "Computed limit", "money"),
    "bin": _f("评分区间", "Scorecard bin", "text"),
    "current": _f("当月统筹结算收入", "Fund settlement income this month", "money"),
    "baseline": _f("前6个月均值", "Mean of the 6 months before", "money"),
    "last_settlement": _f("最近结算日", "Last settlement date", "date"),
    # profile facts, bureau events and the model's own numbers: not settlement figures
    "segment": _f("机构类型", "Institution type", "segment", False),
    "institution_type": _f("机构类型", "Institution type", "segment", False),
    "served": _f("服务的机构类型", "Institution types served", "segments", False),
    "ownership": _f("所有制", "Ownership", "ownership", False),
    "biz_stas": _f("经营状态", "Operating status", "biz_stas", False),
    "cred_lv_name": _f("医保信用等级", "Bureau credit grade", "text", False),
    "hosp_lv": _f("医院等级", "Hospital level", "text", False),
    "penalties_24m": _f("近24个月处罚/暂停次数", "Penalties or suspensions, 24 months", "count",
                        False),
    "suspensions_24m": _f("近24个月暂停次数", "Suspensions, 24 months", "count", False),
    "penalties_or_suspensions_24m": _f("近24个月处罚或暂停次数",
                                       "Penalties or suspensions, 24 months", "count", False),
    "months_since_last_penalty": _f("距最近处罚月数", "Months since the last penalty", "months",
                                    False),
    "designation_days_left": _f("定点协议剩余天数", "Days left on the designation", "days",
                                False),
    "months_designated": _f("定点月数", "Months designated", "months", False),
    "months_since_designation": _f("定点月数", "Months designated", "months", False),
    "score": _f("模型评分", "Score", "score", False),
    "cutoff": _f("准入分数线", "Cut-off score", "score", False),
    "points": _f("该项得分", "Points", "score", False),
    "max_points": _f("该项满分", "Maximum points", "score", False),
    "cap": _f("额度上限", "Limit cap", "money", False),
    "month": _f("月份", "Month", "text", False),
    "evt_type": _f("事件类型", "Event type", "event_type", False),
    "evt_date": _f("事件日期", "Event date", "date", False),
    "evt_desc": _f("事件说明", "Event description", "text", False),
    "as_of": _f("数据截至", "Data as of", "date", False),
}
for _what, _zh, _en in (("fund_pay", "基金支付", "fund payment"),
                        ("medfee", "医疗费", "settlement amount")):
    for _w in (3, 6, 12):
        CATALOGUE[f"{_what}_{_w}m"] = _f(f"近{_w}个月{_zh}合计", f"{_en.capitalize()}, "
                                         f"{_w} months", "money")
        CATALOGUE[f"avg_monthly_{_what}_{_w}m"] = _f(f"近{_w}个月月均{_zh}",
                                                     f"Monthly mean {_en}, {_w} months",
                                                     "money")

#: Keys whose meaning depends on the reason that carries them: (reason code, key) -> field.
CONTEXT: dict[tuple[str, str], Field] = {
    ("K04", "minimum"): _f("最低要求（月）", "Minimum (months)", "months", False),
    ("K07", "minimum"): _f("最低要求", "Minimum", "money", False),
    ("K10", "minimum"): _f("最低要求（天）", "Minimum (days)", "days", False),
    ("K11", "minimum"): _f("最低要求（月）", "Minimum (months)", "months", False),
    ("L01", "threshold"): _f("波动阈值", "Instability threshold", "ratio", False),
    ("L02", "threshold"): _f("下降阈值", "Decline threshold", "ratio", False),
    ("W01", "threshold"): _f("下降阈值（占均值）", "Drop threshold (share of the mean)",
                             "ratio", False),
    ("W02", "as_of"): _f("检查日", "Checked on", "date", False),
}

#: Never shown in a list of inputs: kept elsewhere (monthly series, the case's own code).
NOT_AN_INPUT = frozenset({"monthly_fund_pay_12m", "fixmedins_code", "fixmedins_type"})
NO_DATA = ("无数据", "no data")
OWNERSHIP: Names = {"private": ("民营", "Private"), "public": ("公立", "Public")}


def yuan(value: Any) -> str:
    """``1340000`` -> ``1,340,000.00``; text that is not a number stays as it is."""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def percent(value: float) -> str:
    """In decimal arithmetic: a float near its largest times 100 would overflow to ``inf``."""
    return f"{Decimal(str(value)) * 100:.2f}%"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def display(field: Field, value: Any) -> tuple[str, str]:
    """The value as text for people, in Chinese and English."""
    if value is None or value == "":
        return NO_DATA
    kind = field.kind
    if kind == "money":
        text = yuan(value)
        return f"{text} 元", f"{text} yuan"
    if kind == "ratio" and isinstance(value, int | float | str | Decimal):
        try:
            return (percent(float(value)),) * 2
        except ValueError:
            return str(value), str(value)
    if kind == "months":
        return f"{_number(value)} 个月", f"{_number(value)} months"
    if kind == "days":
        return f"{_number(value)} 天", f"{_number(value)} days"
    if kind == "count":
        return _number(value), _number(value)
    if kind == "score":
        return f"{_number(value)} 分", f"{_number(value)} points"
    if kind == "segment":
        return name(INSTITUTION_TYPES, str(value))
    if kind == "segments" and isinstance(value, list | tuple):
        pairs = [name(INSTITUTION_TYPES, str(v)) for v in value]
        return "、".join(p[0] for p in pairs), ", ".join(p[1] for p in pairs)
    if kind == "biz_stas":
        return name(BIZ_STAS, str(value))
    if kind == "ownership":
        return name(OWNERSHIP, str(value))
    if kind == "event_type":
        return name(EVENT_TYPES, str(value))
    if isinstance(value, bool):
        return ("是", "yes") if value else ("否", "no")
    return _number(value), _number(value)


def _unknown(key: str) -> Field:
    return Field(key, key.replace("_", " "), "text", True)


def labelled(key: str, value: Any, *, reason_code: str | None = None) -> dict[str, str]:
    field = CONTEXT.get((reason_code or "", key)) or CATALOGUE.get(key) or _unknown(key)
    zh, en = display(field, value)
    return {"key": key, "label_zh": field.label_zh, "label_en": field.label_en,
            "display_zh": zh, "display_en": en}


def shown(key: str, *, reason_code: str | None, sees_settlement: bool) -> bool:
    field = CONTEXT.get((reason_code or "", key)) or CATALOGUE.get(key)
    if field is None:
        return sees_settlement
    return sees_settlement or not field.settlement


def format_values(values: dict[str, Any], *, reason_code: str | None,
                  sees_settlement: bool) -> list[dict[str, str]]:
    """A reason's (or warning's) values, each once, those the viewer may see."""
    return [labelled(k, v, reason_code=reason_code) for k, v in values.items()
            if shown(k, reason_code=reason_code, sees_settlement=sees_settlement)]


def format_reasons(reasons: list[dict[str, Any]], *,
                   sees_settlement: bool) -> list[dict[str, Any]]:
    return [{"code": r.get("code") or r.get("rule_code", ""), "rank": int(r.get("rank") or 0),
             "text_zh": r.get("text_zh", ""), "text_en": r.get("text_en", ""),
             "values": format_values(r.get("values") or {}, reason_code=r.get("code"),
                                     sees_settlement=sees_settlement)}
            for r in reasons]


def format_inputs(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """A decision's stored inputs for settlement viewers: profile facts first, then the
    features, each key once (the features repeat some profile fields)."""
    merged: dict[str, Any] = {k: v for k, v in inputs.items() if k != "features"}
    for k, v in (inputs.get("features") or {}).items():
        merged.setdefault(k, v)
    return [labelled(k, v) for k, v in merged.items() if k not in NOT_AN_INPUT]

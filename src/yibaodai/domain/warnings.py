"""Post-loan early-warning rules (贷后预警). Pure: monthly series in, warnings out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from yibaodai.domain.months import month_key, previous_months

WARNING_RULES_VERSION = "warning-rules-2026.11-r2"
DROP_THRESHOLD = Decimal("0.5")
STOPPED_DAYS = 30


@dataclass(frozen=True)
class WarningSignal:
    rule_code: str
    period: str
    severity: str
    text_zh: str
    text_en: str
    inputs: dict[str, Any] = field(default_factory=dict)


#: Bureau events that always warrant a check by the client manager.
EVENT_TYPES_ZH = {"penalty": "医保处罚", "suspension": "暂停医保结算",
                  "designation_end": "定点协议终止"}


@dataclass(frozen=True)
class BureauEvent:
    evt_type: str
    evt_date: date
    evt_desc: str


def detect(monthly: dict[str, Decimal], *, last_settlement: date | None, as_of: date,
           events: tuple[BureauEvent, ...] = ()) -> list[WarningSignal]:
    """W01: last complete month below half the mean of the six before it.
    W02: no settlement at all for 30 days (allowing for the bureau's data lag).
    W03: a penalty, suspension or end of designation by the bureau (one per type and month);
    the caller passes only events since the case began."""
    out: list[WarningSignal] = []
    for evt in sorted(events, key=lambda e: (e.evt_date, e.evt_type)):
        if evt.evt_type not in EVENT_TYPES_ZH:
            continue
        period = month_key(evt.evt_date)
        if any(s.rule_code == "W03" and s.period == period for s in out):
            continue
        out.append(WarningSignal(
            "W03", period, "high",
            f"医保局通报{EVENT_TYPES_ZH[evt.evt_type]}（{evt.evt_date.isoformat()}）：{evt.evt_desc}",
            f"bureau reported {evt.evt_type.replace('_', ' ')} on {evt.evt_date.isoformat()}",
            {"evt_type": evt.evt_type, "evt_date": evt.evt_date.isoformat(),
             "evt_desc": evt.evt_desc},
        ))
    months = previous_months(as_of, 7)
    last, before = months[-1], months[:-1]
    baseline_values = [monthly.get(m, Decimal(0)) for m in before]
    baseline = sum(baseline_values, Decimal(0)) / len(baseline_values)
    current = monthly.get(last, Decimal(0))
    if baseline > 0 and current < baseline * DROP_THRESHOLD:
        drop = float((baseline - current) / baseline)
        out.append(WarningSignal(
            "W01", last, "high",
            f"{last}月统筹结算收入较前6个月均值下降{drop:.0%}",
            f"fund settlement income in {last} fell {drop:.0%} below the prior 6-month mean",
            {"month": last, "current": str(current), "baseline": str(baseline.quantize(
                Decimal("0.01"))), "threshold": str(DROP_THRESHOLD)},
        ))
    if last_settlement is not None and (as_of - last_settlement).days >= STOPPED_DAYS:
        out.append(WarningSignal(
            "W02", month_key(as_of), "high",
            f"已连续{(as_of - last_settlement).days}天无医保结算",
            f"no settlement for {(as_of - last_settlement).days} days",
            {"last_settlement": last_settlement.isoformat(), "as_of": as_of.isoformat()},
        ))
    return out

"""Post-loan warning rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibaodai.domain.warnings import detect


def months(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


STEADY = {f"2026-{m:02d}": "100000" for m in range(2, 9)}


def test_steady_income_raises_nothing() -> None:
    assert detect(months(STEADY), last_settlement=date(2026, 8, 31), as_of=date(2026, 9, 2)) == []


def test_a_month_below_half_the_prior_six_raises_w01_with_its_inputs() -> None:
    data = months({**STEADY, "2026-08": "49999"})
    (signal,) = detect(data, last_settlement=date(2026, 8, 31), as_of=date(2026, 9, 2))
    assert signal.rule_code == "W01" and signal.period == "2026-08"
    assert signal.inputs["current"] == "49999" and signal.inputs["baseline"] == "100000.00"


def test_exactly_half_is_not_a_warning() -> None:
    data = months({**STEADY, "2026-08": "50000"})
    assert detect(data, last_settlement=date(2026, 8, 31), as_of=date(2026, 9, 2)) == []


def test_thirty_silent_days_raise_w02() -> None:
    codes = [s.rule_code for s in detect(months(STEADY), last_settlement=date(2026, 8, 3),
                                         as_of=date(2026, 9, 2))]
    assert codes == ["W02"]


def test_bureau_penalties_and_suspensions_raise_w03_once_per_month() -> None:
    from yibaodai.domain.warnings import BureauEvent

    events = (BureauEvent("penalty", date(2026, 9, 3), "违规结算"),
              BureauEvent("suspension", date(2026, 9, 20), "暂停"),
              BureauEvent("restore", date(2026, 10, 2), "恢复"),
              BureauEvent("grade_change", date(2026, 10, 5), "B"))
    signals = detect(months(STEADY), last_settlement=date(2026, 8, 31), as_of=date(2026, 9, 2),
                     events=events)
    assert [(s.rule_code, s.period) for s in signals] == [("W03", "2026-09")]
    assert "违规结算" in signals[0].text_zh and signals[0].inputs["evt_type"] == "penalty"

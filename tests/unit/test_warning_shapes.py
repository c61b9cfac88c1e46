"""Post-loan warning rules on data with a shape — seasonal, stepped, with missing months —
where a flat series would hide the difference between the rule and a near miss of it.

The rule (DESIGN.md step 8, the docstring of ``domain.warnings.detect``): W01 when the last
complete month is below half the mean of the SIX months before it, a month with no settlement
counting as zero; W02 after 30 days without any settlement; W03 once per bureau event type and
month.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibaodai.domain.months import month_key, previous_months
from yibaodai.domain.warnings import BureauEvent, WarningSignal, detect

AS_OF = date(2026, 9, 2)  # last complete month 2026-08, the six before: 2026-02 .. 2026-07
PRIOR = ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]


def run(monthly: dict[str, int | str], *, as_of: date = AS_OF,
        last_settlement: date | None = date(2026, 8, 31),
        events: tuple[BureauEvent, ...] = ()) -> list[WarningSignal]:
    return detect({k: Decimal(v) for k, v in monthly.items()},
                  last_settlement=last_settlement, as_of=as_of, events=events)


def w01(signals: list[WarningSignal]) -> WarningSignal | None:
    found = [s for s in signals if s.rule_code == "W01"]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_seasonal_series_is_judged_against_its_six_month_mean() -> None:
    # a winter peak: 160k, 140k, 100k, 80k, 60k, 60k -> mean 100k
    season = dict(zip(PRIOR, [160_000, 140_000, 100_000, 80_000, 60_000, 60_000], strict=True))
    signal = w01(run({**season, "2026-08": 49_999}))
    assert signal is not None and signal.period == "2026-08" and signal.severity == "high"
    assert signal.inputs == {"month": "2026-08", "current": "49999", "baseline": "100000.00",
                             "threshold": "0.5"}
    assert signal.text_zh == "2026-08月统筹结算收入较前6个月均值下降50%"
    assert signal.text_en == "fund settlement income in 2026-08 fell 50% below the prior " \
        "6-month mean"
    assert w01(run({**season, "2026-08": 50_000})) is None
    assert w01(run({**season, "2026-08": 50_001})) is None


def test_a_step_down_long_ago_still_weighs_in_the_six_month_baseline() -> None:
    # one high month six months back, then a lower plateau: the mean of all six is 100k,
    # the mean of the last five only 60k (under which 49,999 would be no warning)
    stepped = dict(zip(PRIOR, [300_000, 60_000, 60_000, 60_000, 60_000, 60_000], strict=True))
    signal = w01(run({**stepped, "2026-08": 49_999}))
    assert signal is not None and signal.inputs["baseline"] == "100000.00"
    # the month before the six does not count
    older = {"2026-01": 10_000_000, **stepped, "2026-08": 49_999}
    signal = w01(run(older))
    assert signal is not None and signal.inputs["baseline"] == "100000.00"


def test_a_missing_month_counts_as_no_income() -> None:
    gappy = dict(zip(PRIOR[:5], [120_000] * 5, strict=True))  # 2026-07 missing
    signal = w01(run({**gappy, "2026-08": 49_999}))
    assert signal is not None and signal.inputs["baseline"] == "100000.00"
    assert w01(run({**gappy, "2026-08": 50_000})) is None


def test_a_missing_last_month_is_a_drop_to_zero() -> None:
    steady = dict.fromkeys(PRIOR, 100_000)
    signal = w01(run(steady))
    assert signal is not None and signal.inputs["current"] == "0"
    assert signal.text_zh.endswith("下降100%")


def test_no_history_at_all_raises_no_drop_warning() -> None:
    assert run({}, last_settlement=None) == []
    assert w01(run({"2026-08": 0})) is None


def test_a_drop_is_measured_across_the_turn_of_the_year() -> None:
    prior = dict.fromkeys(previous_months(date(2027, 1, 5), 7)[:-1], 100_000)
    assert sorted(prior) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
                             "2026-11"]
    signal = w01(run({**prior, "2026-12": 40_000}, as_of=date(2027, 1, 5),
                     last_settlement=date(2026, 12, 30)))
    assert signal is not None and signal.period == "2026-12"


def test_twenty_nine_silent_days_are_not_yet_a_stop_and_thirty_are() -> None:
    steady = {**dict.fromkeys(PRIOR, 100_000), "2026-08": 100_000}
    assert run(steady, last_settlement=date(2026, 8, 4)) == []
    (stop,) = run(steady, last_settlement=date(2026, 8, 3))
    assert (stop.rule_code, stop.period) == ("W02", "2026-09")
    assert stop.text_zh == "已连续30天无医保结算"
    assert stop.inputs == {"last_settlement": "2026-08-03", "as_of": "2026-09-02"}


def test_an_unknown_event_before_a_penalty_does_not_hide_it() -> None:
    steady = {**dict.fromkeys(PRIOR, 100_000), "2026-08": 100_000}
    events = (BureauEvent("restore", date(2026, 9, 1), "恢复"),
              BureauEvent("penalty", date(2026, 9, 3), "违规结算"))
    (signal,) = run(steady, events=events)
    assert (signal.rule_code, signal.period) == ("W03", "2026-09")
    assert signal.text_zh == "医保局通报医保处罚（2026-09-03）：违规结算"
    assert signal.text_en == "bureau reported penalty on 2026-09-03"


def test_a_second_event_in_a_month_does_not_hide_the_next_months() -> None:
    steady = {**dict.fromkeys(PRIOR, 100_000), "2026-08": 100_000}
    events = (BureauEvent("designation_end", date(2026, 10, 2), "协议终止"),
              BureauEvent("penalty", date(2026, 9, 3), "违规"),
              BureauEvent("suspension", date(2026, 9, 20), "暂停"))
    signals = run(steady, events=events)
    assert [(s.rule_code, s.period, s.inputs["evt_type"]) for s in signals] == [
        ("W03", "2026-09", "penalty"), ("W03", "2026-10", "designation_end")]
    assert signals[1].text_en == "bureau reported designation end on 2026-10-02"


def test_month_keys_are_zero_padded() -> None:
    assert month_key(date(2026, 3, 31)) == "2026-03"
    assert previous_months(date(2026, 3, 1), 3) == ["2025-12", "2026-01", "2026-02"]

"""The warning rules exactly on, just inside and just outside each threshold of docs/ews.md
("Rules"), on histories with shape (a stepped month, a missing month, a year of seasons),
and a borrower's history surviving its JSON form field by field (replay depends on it)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from yibaodai.domain.ews.history import BorrowerHistory, BureauEvent, Disbursement, MonthFigures
from yibaodai.domain.ews.rules import RULES, evaluate, expected_income, run_rule
from yibaodai.domain.months import previous_months

AS_OF = date(2026, 10, 2)                 # the last complete month is 2026-09
MONTHS = previous_months(AS_OF, 24)       # 2024-10 .. 2026-09


def history(overrides: dict[str, MonthFigures | None] | None = None,
            **kwargs: object) -> BorrowerHistory:
    """Two years at 100,000 yuan a month, 1,000 settlements of which 10 refunds, half of the
    fund from employees' insurance; ``None`` in ``overrides`` leaves a month out."""
    months: dict[str, MonthFigures | None] = {
        m: MonthFigures(100_000.0, 1_000, 10, 0.5) for m in MONTHS}
    months |= overrides or {}
    kwargs.setdefault("last_settlement", AS_OF - timedelta(days=2))
    return BorrowerHistory(months={k: v for k, v in months.items() if v is not None},
                           **kwargs)  # type: ignore[arg-type]


def income(value: float) -> MonthFigures:
    return MonthFigures(value, 1_000, 10, 0.5)


def level(code: str, h: BorrowerHistory, as_of: date = AS_OF) -> str | None:
    signal = run_rule(RULES[code], h, as_of, record=False)
    return None if signal is None else signal.level


@pytest.mark.parametrize(("september", "expected"), [
    (70_000.0, None),        # exactly 70 % of the expectation: not below it
    (69_999.0, "yellow"),
    (50_000.0, "yellow"),    # exactly 50 %: near breach, not breach
    (49_999.0, "orange"),
])
def test_w01_near_breach_below_70_and_breach_below_50(september: float,
                                                      expected: str | None) -> None:
    assert level("W01", history({"2026-09": income(september)})) == expected


def test_w01_a_breach_two_months_running_is_red_and_the_facts_say_so() -> None:
    h = history({"2026-08": income(40_000.0), "2026-09": income(40_000.0)})
    signal = run_rule(RULES["W01"], h, AS_OF, record=False)
    assert signal is not None and signal.level == "red"
    assert signal.inputs["month"] == "2026-09"
    assert signal.inputs["previous_ratio"] == 0.4
    assert signal.inputs["ratio"] == pytest.approx(40_000 / 100_000, abs=1e-4)
    assert "40%" in signal.text_zh and "50%" in signal.text_zh


def test_w01_a_missing_month_counts_as_no_income() -> None:
    # September absent from the data: nothing settled, a breach against the expectation
    assert level("W01", history({"2026-09": None})) in ("orange", "red")
    h = history({"2026-09": None})
    assert h.fund_pay("2026-09") == 0.0 and h.fund_pay("2026-08") == 100_000.0


def test_w01_needs_seven_months_of_history() -> None:
    recent = {m: None for m in MONTHS[:-7]}
    assert level("W01", history({**recent, "2026-09": income(30_000.0)})) is not None
    shorter = {m: None for m in MONTHS[:-6]}
    assert level("W01", history({**shorter, "2026-09": income(30_000.0)})) is None


def test_w01_the_expectation_follows_the_borrowers_own_season() -> None:
    # every September is 40 % above the months before it: this September's 140,000 is normal
    seasonal = {"2025-09": income(140_000.0), "2026-09": income(140_000.0)}
    h = history(seasonal)
    assert expected_income(h, "2026-09") == pytest.approx(140_000.0)
    assert level("W01", h) is None
    # last year's ratio is clipped to 0.5-2: a freak September of 500,000 sets the bar at 2x
    freak = history({"2025-09": income(500_000.0)})
    assert expected_income(freak, "2026-09") == pytest.approx(200_000.0)
    low = history({"2025-09": income(10_000.0)})
    assert expected_income(low, "2026-09") == pytest.approx(50_000.0)


def test_w01_a_stepped_income_is_judged_against_the_median_not_the_mean() -> None:
    # one great month in the six before does not raise the bar
    h = history({"2026-05": income(1_000_000.0)})
    assert expected_income(h, "2026-09") == pytest.approx(100_000.0)


@pytest.mark.parametrize(("days", "expected"), [(29, None), (30, "orange"), (59, "orange"),
                                                (60, "red")])
def test_w02_silence(days: int, expected: str | None) -> None:
    h = history(last_settlement=AS_OF - timedelta(days=days))
    assert level("W02", h) == expected
    if expected:
        signal = run_rule(RULES["W02"], h, AS_OF, record=False)
        assert signal is not None and signal.inputs["days"] == days
        assert signal.period == "2026-10" and f"{days}" in signal.text_en


def test_w02_needs_a_first_settlement() -> None:
    assert level("W02", history(last_settlement=None)) is None


@pytest.mark.parametrize(("ago", "seen"), [(365, True), (366, False), (0, True), (-1, False)])
def test_w03_looks_back_365_days_up_to_today(ago: int, seen: bool) -> None:
    event = BureauEvent("penalty", AS_OF - timedelta(days=ago), "违规")
    assert level("W03", history(events=(event,))) == ("orange" if seen else None)


def test_w03_the_loan_start_limits_the_look_back() -> None:
    event = BureauEvent("suspension", date(2026, 3, 1), "暂停")
    assert level("W03", history(events=(event,), watched_since=date(2026, 3, 1))) == "red"
    assert level("W03", history(events=(event,), watched_since=date(2026, 3, 2))) is None


@pytest.mark.parametrize(("evt_type", "grade", "expected"), [
    ("suspension", None, "red"), ("designation_end", None, "red"), ("penalty", "D", "orange"),
    ("grade_change", "B", "yellow"), ("grade_change", "C", "orange"),
    ("grade_change", "D", "orange"), ("grade_change", None, "yellow"),
    ("restore", None, None),
])
def test_w03_levels_by_event(evt_type: str, grade: str | None, expected: str | None) -> None:
    event = BureauEvent(evt_type, date(2026, 9, 10), "说明")
    h = history(events=(event,), credit_grade=grade)
    assert level("W03", h) == expected
    signal = run_rule(RULES["W03"], h, AS_OF, record=False)
    if signal is not None:
        assert signal.inputs["events"] == [{"evt_type": evt_type, "evt_date": "2026-09-10",
                                            "evt_desc": "说明"}]
        assert signal.inputs["credit_grade"] == grade and signal.period == "2026-09"


@pytest.mark.parametrize(("days", "expected"), [(0, "yellow"), (60, "yellow"), (61, None),
                                                (-1, None)])
def test_w03_designation_ending_within_60_days(days: int, expected: str | None) -> None:
    h = history(designation_end=AS_OF + timedelta(days=days))
    assert level("W03", h) == expected
    if expected:
        signal = run_rule(RULES["W03"], h, AS_OF, record=False)
        assert signal is not None and signal.inputs["designation_end"] == (
            AS_OF + timedelta(days=days)).isoformat()
        assert f"{days}天" in signal.text_zh


def test_w03_the_worst_level_wins_and_every_finding_is_told() -> None:
    events = (BureauEvent("grade_change", date(2026, 9, 20), "B→C"),
              BureauEvent("suspension", date(2026, 8, 1), "暂停"))
    signal = run_rule(RULES["W03"], history(events=events), AS_OF, record=False)
    assert signal is not None and signal.level == "red"
    assert signal.period == "2026-09"  # the newest finding's month
    assert signal.text_zh.count("；") == 1 and "暂停" in signal.text_zh
    assert signal.text_en.count("; ") == 1 and "grade change" in signal.text_en


@pytest.mark.parametrize(("figures", "fires"), [
    (MonthFigures(100_000.0, 2_000, 20, 0.5), False),   # exactly twice the usual count
    (MonthFigures(100_000.0, 2_001, 20, 0.5), True),
    (MonthFigures(100_000.0, 1_000, 99, 0.5), False),   # refund share 9.9 %: under the floor
    (MonthFigures(100_000.0, 1_000, 100, 0.5), True),   # 10 % and ten times the usual 1 %
    (MonthFigures(100_000.0, 1_000, 10, 0.75), False),  # employees' share moved 25 points
    (MonthFigures(100_000.0, 1_000, 10, 0.7500001), True),
    (MonthFigures(100_000.0, 1_000, 10, 0.25), False),
    (MonthFigures(100_000.0, 1_000, 10, 0.2499999), True),
    (MonthFigures(100_000.0, 1_000, 10, None), False),
])
def test_w05_spikes_on_their_thresholds(figures: MonthFigures, fires: bool) -> None:
    assert level("W05", history({"2026-09": figures})) == ("yellow" if fires else None)


def test_w05_refunds_need_three_times_the_usual_share_too() -> None:
    refunding = {m: MonthFigures(100_000.0, 1_000, 40, 0.5) for m in MONTHS}  # usual 4 %
    assert level("W05", history({**refunding, "2026-09": MonthFigures(
        100_000.0, 1_000, 120, 0.5)})) is None  # 12 %: exactly three times
    assert level("W05", history({**refunding, "2026-09": MonthFigures(
        100_000.0, 1_000, 121, 0.5)})) == "yellow"


def test_w05_a_seasonal_peak_in_counts_is_no_spike() -> None:
    peak = MonthFigures(100_000.0, 3_000, 30, 0.5)
    assert level("W05", history({"2026-09": peak})) == "yellow"
    assert level("W05", history({"2025-09": peak, "2026-09": peak})) is None


def test_w05_needs_three_comparable_months_and_skips_the_festival() -> None:
    spike = MonthFigures(100_000.0, 5_000, 10, 0.5)
    sparse = {m: None for m in MONTHS[-7:-1]}
    assert level("W05", history({**sparse, "2026-09": spike})) is None
    three = {m: None for m in MONTHS[-7:-4]}
    assert level("W05", history({**three, "2026-09": spike})) == "yellow"
    assert level("W05", history({"2026-02": spike}), date(2026, 3, 2)) is None


def paid(month: str, amount: float) -> Disbursement:
    return Disbursement(month, date(2026, int(month[5:]) + 1, 28), amount)


@pytest.mark.parametrize(("amount", "expected"), [
    (60_000.0, None), (59_999.0, "yellow"), (130_000.0, None), (130_001.0, "yellow"),
    (30_000.0, "yellow"), (29_999.0, "orange"), (93_000.0, None),
])
def test_w06_the_paid_share_of_the_newest_due_month(amount: float,
                                                     expected: str | None) -> None:
    # on 2 October July is the newest due month (10 Aug + 28 + 10 days = 17 Sep)
    h = history(disbursements=(paid("2026-06", 95_000.0), paid("2026-07", amount)))
    assert level("W06", h) == expected
    assert level("W07", h) is None


def test_w07_late_from_the_day_after_the_lag() -> None:
    on_time = (paid("2026-06", 95_000.0), paid("2026-07", 95_000.0))
    # August is due after 10 Sep + 38 days = 18 October
    assert level("W07", history(disbursements=on_time), date(2026, 10, 18)) is None
    assert level("W07", history(disbursements=on_time), date(2026, 10, 19)) == "yellow"
    signal = run_rule(RULES["W07"], history(disbursements=on_time), date(2026, 10, 19),
                      record=False)
    assert signal is not None and signal.inputs["missing"] == ["2026-08"]
    assert signal.period == "2026-08"


def test_w07_two_months_late_is_orange_and_a_month_without_income_owes_nothing() -> None:
    first = (paid("2026-05", 95_000.0),)
    signal = run_rule(RULES["W07"], history(disbursements=first), AS_OF, record=False)
    assert signal is not None and signal.level == "orange"
    assert signal.inputs["missing"] == ["2026-06", "2026-07"]
    quiet = history({"2026-07": None}, disbursements=first)
    assert level("W07", quiet) == "yellow"
    assert level("W07", history()) is None  # the bureau shares no disbursements for it


@pytest.mark.parametrize(("days", "expected"), [(0, None), (1, "orange"), (29, "orange"),
                                                (30, "red")])
def test_w08_overdue(days: int, expected: str | None) -> None:
    assert level("W08", history(overdue_days=days)) == expected


def test_a_history_survives_its_json_form_field_by_field() -> None:
    h = BorrowerHistory(
        months={"2026-08": MonthFigures(1234.567, 12, 3, 0.123456),
                "2026-09": MonthFigures(99.0, 1, 0, None)},
        last_settlement=date(2026, 9, 30),
        events=(BureauEvent("penalty", date(2026, 9, 3), "违规"),),
        disbursements=(Disbursement("2026-08", date(2026, 9, 28), 1000.456),),
        overdue_days=4, designation_end=date(2027, 1, 31), credit_grade="B",
        watched_since=date(2026, 1, 1), extra={"court": ["case 1"]})
    back = BorrowerHistory.from_json(h.as_json())
    assert back == BorrowerHistory(
        months={"2026-08": MonthFigures(1234.57, 12, 3, 0.1235),
                "2026-09": MonthFigures(99.0, 1, 0, None)},
        last_settlement=date(2026, 9, 30),
        events=(BureauEvent("penalty", date(2026, 9, 3), "违规"),),
        disbursements=(Disbursement("2026-08", date(2026, 9, 28), 1000.46),),
        overdue_days=4, designation_end=date(2027, 1, 31), credit_grade="B",
        watched_since=date(2026, 1, 1), extra={"court": ["case 1"]})
    empty = BorrowerHistory.from_json({"months": {}})
    assert empty == BorrowerHistory(months={})
    assert BorrowerHistory.from_json(BorrowerHistory(months={}).as_json()) == empty


def test_evaluate_runs_every_rule_once() -> None:
    h = history({"2026-09": income(30_000.0)}, overdue_days=31,
                last_settlement=AS_OF - timedelta(days=61))
    got = [(s.rule_code, s.level) for s in evaluate(h, AS_OF)]
    assert ("W01", "orange") in got and ("W02", "red") in got and ("W08", "red") in got
    assert len({c for c, _ in got}) == len(got)


def test_w07_december_money_is_due_in_february() -> None:
    # December's claim is made by 10 January; 28 + 10 days later is 17 February
    months = {m: MonthFigures(100_000.0, 1_000, 10, 0.5)
              for m in previous_months(date(2026, 2, 18), 24)}
    paid_before = (Disbursement("2025-10", date(2025, 11, 28), 95_000.0),
                   Disbursement("2025-11", date(2025, 12, 28), 95_000.0))
    h = BorrowerHistory(months=months, last_settlement=date(2026, 2, 16),
                        disbursements=paid_before)
    assert level("W07", h, date(2026, 2, 17)) is None
    signal = run_rule(RULES["W07"], h, date(2026, 2, 18), record=False)
    assert signal is not None and signal.inputs["missing"] == ["2025-12"]


@pytest.mark.parametrize(("as_of", "low", "previous"), [
    (date(2026, 4, 2), ("2026-01", "2026-02", "2026-03"), "2026-02"),  # after Jan+Feb
    (date(2026, 3, 2), ("2025-12", "2026-01", "2026-02"), "2025-12"),  # Jan+Feb after Dec
    (date(2026, 5, 2), ("2026-03", "2026-04"), "2026-03"),
])
def test_w01_two_breaches_running_across_the_spring_festival_are_red(
        as_of: date, low: tuple[str, ...], previous: str) -> None:
    months = {m: income(100_000.0) for m in previous_months(as_of, 24)}
    months |= {m: income(40_000.0) for m in low}
    h = BorrowerHistory(months=months, last_settlement=as_of - timedelta(days=2))
    signal = run_rule(RULES["W01"], h, as_of, record=False)
    assert signal is not None and signal.level == "red"
    assert signal.inputs["previous_ratio"] == pytest.approx(0.4, abs=1e-4)
    # the month before recovered: a first breach is orange
    months[previous] = income(100_000.0)
    if previous.endswith("-02"):
        months[previous[:5] + "01"] = income(100_000.0)
    once = run_rule(RULES["W01"], BorrowerHistory(
        months=months, last_settlement=as_of - timedelta(days=2)), as_of, record=False)
    assert once is not None and once.level == "orange"

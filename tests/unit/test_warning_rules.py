"""The post-loan warning rules (domain.ews.rules): each rule's levels, the Spring Festival,
the 8303 lag, and replay of a stored signal from its own inputs."""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.domain.ews.history import BorrowerHistory, BureauEvent, Disbursement, MonthFigures
from yibaodai.domain.ews.rules import RULES, evaluate, expected_income, replay, run_rule
from yibaodai.domain.months import previous_months

AS_OF = date(2026, 10, 2)
MONTHS = previous_months(AS_OF, 24)  # 2024-10 .. 2026-09


def steady(overrides: dict[str, float] | None = None, **kwargs: object) -> BorrowerHistory:
    values = {m: 100_000.0 for m in MONTHS} | (overrides or {})
    figures = {m: MonthFigures(v, int(v // 100), int(v // 10_000), 0.6)
               for m, v in values.items()}
    return BorrowerHistory(months=figures, last_settlement=AS_OF - timedelta(days=2),
                           **kwargs)  # type: ignore[arg-type]


def codes(h: BorrowerHistory, as_of: date = AS_OF) -> list[tuple[str, str]]:
    return [(s.rule_code, s.level) for s in evaluate(h, as_of)]


def test_steady_income_raises_nothing() -> None:
    assert codes(steady()) == []


def test_shortfall_levels_follow_the_shares_of_the_seasonal_expectation() -> None:
    assert codes(steady({"2026-09": 70_000.0})) == []
    assert codes(steady({"2026-09": 69_000.0})) == [("W01", "yellow")]
    assert codes(steady({"2026-09": 49_000.0})) == [("W01", "orange")]
    assert codes(steady({"2026-08": 40_000.0, "2026-09": 40_000.0}))[0] == ("W01", "red")


def test_the_expectation_is_the_borrowers_own_season() -> None:
    # every September of a summer business is half its spring: no warning for the trough
    seasonal = {m: 50_000.0 for m in MONTHS if m.endswith("-09")}
    assert expected_income(steady(seasonal), "2026-09") == 50_000.0
    assert codes(steady(seasonal)) == []


def test_the_spring_festival_moving_between_january_and_february_is_no_shortfall() -> None:
    # 2025: the festival in January (January low); 2026: in February (February low)
    moved = {"2025-01": 60_000.0, "2025-02": 100_000.0, "2026-01": 100_000.0,
             "2026-02": 60_000.0}
    assert codes(steady(moved), date(2026, 3, 2)) == []
    # a real fall over both months is still seen, in March, as January+February
    fallen = moved | {"2026-01": 40_000.0, "2026-02": 30_000.0}
    assert ("W01", "orange") in codes(steady(fallen), date(2026, 3, 2))
    assert codes(steady(fallen), date(2026, 2, 2)) == []  # January waits for February


def test_three_consecutive_declines_are_a_blue_note() -> None:
    falling = {"2026-06": 97_000.0, "2026-07": 92_000.0, "2026-08": 86_000.0,
               "2026-09": 80_000.0}
    assert codes(steady(falling)) == [("W01", "blue")]


def test_silence_is_orange_from_30_days_and_red_from_60() -> None:
    def quiet(days: int) -> list[tuple[str, str]]:
        h = steady()
        return codes(BorrowerHistory(months=h.months, last_settlement=AS_OF - timedelta(
            days=days)))
    assert quiet(29) == []
    assert quiet(30) == [("W02", "orange")]
    assert quiet(60) == [("W02", "red")]


def test_bureau_events_since_the_loan_take_the_worst_level() -> None:
    events = (BureauEvent("penalty", date(2026, 9, 3), "违规结算"),
              BureauEvent("restore", date(2026, 9, 5), "恢复"),
              BureauEvent("penalty", date(2025, 1, 3), "before the loan"))
    (signal,) = evaluate(steady(events=events, watched_since=date(2026, 1, 1)), AS_OF)
    assert (signal.rule_code, signal.level, signal.period) == ("W03", "orange", "2026-09")
    assert "违规结算" in signal.text_zh and "before the loan" not in signal.text_zh
    worse = (*events, BureauEvent("suspension", date(2026, 9, 20), "暂停"))
    assert codes(steady(events=worse, watched_since=date(2026, 1, 1))) == [("W03", "red")]


def test_a_downgrade_to_c_is_orange_and_a_designation_ending_soon_yellow() -> None:
    grade = (BureauEvent("grade_change", date(2026, 9, 10), "B→C"),)
    assert codes(steady(events=grade, credit_grade="C")) == [("W03", "orange")]
    assert codes(steady(events=grade, credit_grade="B")) == [("W03", "yellow")]
    assert codes(steady(designation_end=AS_OF + timedelta(days=59))) == [("W03", "yellow")]
    assert codes(steady(designation_end=AS_OF + timedelta(days=61))) == []


def test_a_lasting_fall_in_level_is_a_change_point() -> None:
    fallen = {m: 35_000.0 for m in MONTHS[-5:]}
    found = dict(codes(steady(fallen)))
    assert found["W04"] == "red"


def test_spikes_in_counts_or_refunds_or_insurance_mix_are_yellow() -> None:
    base = steady()
    months = dict(base.months)
    months["2026-09"] = MonthFigures(100_000.0, 2_500, 10, 0.6)
    assert codes(BorrowerHistory(months=months, last_settlement=base.last_settlement)) == [
        ("W05", "yellow")]
    months["2026-09"] = MonthFigures(100_000.0, 1_000, 150, 0.6)
    assert codes(BorrowerHistory(months=months, last_settlement=base.last_settlement)) == [
        ("W05", "yellow")]
    months["2026-09"] = MonthFigures(100_000.0, 1_000, 10, 0.2)
    assert codes(BorrowerHistory(months=months, last_settlement=base.last_settlement)) == [
        ("W05", "yellow")]


def paid(months: list[str], share: float = 0.93) -> tuple[Disbursement, ...]:
    out = []
    for m in months:
        year, mon = int(m[:4]), int(m[5:]) + 1
        booked = date(year + (mon == 13), 1 if mon == 13 else mon, 28)
        out.append(Disbursement(m, booked, 100_000.0 * share))
    return tuple(out)


def test_disbursements_within_the_normal_lag_and_hold_back_raise_nothing() -> None:
    # July paid; August's money is not due before about 10 Sep + 20 working days + grace
    assert codes(steady(disbursements=paid(MONTHS[:-2]))) == []


def test_a_missing_disbursement_past_the_lag_is_late_and_a_short_one_a_mismatch() -> None:
    # on 10 October July's money (due about 17 September) is late, August's not yet due
    assert codes(steady(disbursements=paid(MONTHS[:-3])), date(2026, 10, 10)) == [
        ("W07", "yellow")]
    assert codes(steady(disbursements=paid(MONTHS[:-3])), date(2026, 10, 25)) == [
        ("W07", "orange")]  # July and August both late
    short = (*paid(MONTHS[:-3]), *paid([MONTHS[-3]], share=0.4))
    assert codes(steady(disbursements=short), date(2026, 10, 10)) == [("W06", "yellow")]


def test_overdue_from_head_office_is_orange_then_red() -> None:
    assert codes(steady(overdue_days=3)) == [("W08", "orange")]
    assert codes(steady(overdue_days=30)) == [("W08", "red")]


def test_every_rule_has_a_version_and_its_parameters() -> None:
    assert sorted(RULES) == [f"W0{i}" for i in range(1, 10)]
    assert all(rule.version.startswith(code.lower()) and rule.params
               for code, rule in RULES.items())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=300_000, allow_nan=False), min_size=24,
                max_size=24),
       st.integers(min_value=0, max_value=90), st.integers(min_value=0, max_value=120))
def test_a_stored_signal_replays_to_the_same_result(values: list[float], quiet: int,
                                                    overdue: int) -> None:
    figures = {m: MonthFigures(round(v, 2), int(v // 90), int(v // 9000), 0.55)
               for m, v in zip(MONTHS, values, strict=True)}
    h = BorrowerHistory(months=figures, last_settlement=AS_OF - timedelta(days=quiet),
                        overdue_days=overdue,
                        events=(BureauEvent("penalty", date(2026, 9, 3), "违规"),))
    for signal in evaluate(h, AS_OF):
        stored = json.loads(json.dumps(signal.inputs))  # as the JSON column keeps it
        assert replay(signal.rule_code, stored) == signal


def test_a_signal_without_its_record_cannot_be_confused_with_a_replayable_one() -> None:
    signal = run_rule(RULES["W08"], steady(overdue_days=5), AS_OF, record=False)
    assert signal is not None and "replay" not in signal.inputs

"""The evaluation's windows on their edges (docs/ews.md, "Quality on the simulated portfolio"):
a warning counts from the month before deterioration began up to two months before the month
of default, both included; across a year end; the whole report when nothing qualifies. And
warning handling: the deadline per level (red 1, orange 3, yellow 5, blue 10 working days;
3 for a level the table does not know), escalation only once a deadline has passed, to the
department past one deadline and to the branch past two, never back down."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.ews.evaluation import BorrowerRun, month_index, new_warnings, score_runs
from yibaodai.domain.ews.handling import deadline, escalation_due, handling_errors

MONTHS = [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 7)]


def run(code: str, fired: dict[str, set[str]], *, worse: str | None = None,
        default: str | None = None) -> BorrowerRun:
    return BorrowerRun(code, MONTHS, [frozenset(fired.get(m, set())) for m in MONTHS],
                       worse, default)


def test_months_are_counted_across_the_year_end() -> None:
    assert month_index("2026-01") - month_index("2025-12") == 1
    assert month_index("2026-12") - month_index("2026-01") == 11
    assert month_index("2026-10") - month_index("2025-10") == 12
    assert month_index("0000-01") == 0


@pytest.mark.parametrize(("warned", "counts"), [
    ("2025-10", False),  # two months before deterioration (2025-12): luck
    ("2025-11", True),   # the month before it began
    ("2026-03", True),   # two months before default (2026-05)
    ("2026-04", False),  # one month before: too late
])
def test_the_window_of_a_useful_warning(warned: str, counts: bool) -> None:
    r = run("d", {warned: {"W01"}}, worse="2025-12", default="2026-05")
    report = score_runs([r])
    assert report["recall_2m"] == (1.0 if counts else 0.0)
    assert report["missed"] == ([] if counts else ["d"])
    lead = month_index("2026-05") - month_index(warned)
    assert report["lead_time_months"] == (
        {"median": lead, "min": lead, "max": lead, "distribution": {str(lead): 1}} if counts
        else {"median": None, "min": None, "max": None, "distribution": {}})


def test_the_whole_report_on_a_small_portfolio() -> None:
    runs = [run("a", {"2025-12": {"W01"}, "2026-01": {"W01", "W04"}}, worse="2026-01",
                default="2026-05"),
            run("b", {"2026-02": {"W02", "W07"}}, worse="2026-02", default="2026-06"),
            run("c", {"2025-08": {"W05"}}),
            run("e", {})]
    assert score_runs(runs) == {
        "borrowers": 4, "defaulters": 2, "recall_2m": 1.0,
        "false_per_100_month": round(100 * 1 / 24, 4),
        "lead_time_months": {"median": 4.5, "min": 4, "max": 5,
                             "distribution": {"4": 1, "5": 1}},
        "first_warning_by_rule": {"W01": 1, "W02": 1, "W07": 1},
        "false_by_rule": {"W05": 1}, "missed": []}


def test_a_portfolio_without_defaulters_or_healthy_months() -> None:
    report = score_runs([])
    assert (report["borrowers"], report["defaulters"], report["recall_2m"],
            report["false_per_100_month"]) == (0, 0, None, None)
    healthy = score_runs([run("h", {"2025-09": {"W02"}})])
    assert healthy["recall_2m"] is None and healthy["false_per_100_month"] == round(
        100 / 12, 4)
    precise = score_runs([BorrowerRun("p", ["2026-01"] * 7, [frozenset({"W01"})] + [
        frozenset()] * 6, None, None)])
    assert precise["false_per_100_month"] == 14.2857


def test_a_run_needs_one_fired_set_per_month() -> None:
    with pytest.raises(ValueError):
        new_warnings(BorrowerRun("x", MONTHS, [frozenset()], None, None))


CAL = WorkingDayCalendar()


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59, 999999), tzinfo=SHANGHAI)


MONDAY = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("level", "due"), [
    ("red", eod(2026, 11, 3)), ("orange", eod(2026, 11, 5)), ("yellow", eod(2026, 11, 9)),
    ("blue", eod(2026, 11, 16)), ("critical", eod(2026, 11, 5)),
])
def test_the_deadline_per_level(level: str, due: datetime) -> None:
    assert deadline(level, MONDAY, CAL) == due


@pytest.mark.parametrize(("now", "already", "step"), [
    (eod(2026, 11, 5), None, None),                     # orange: due Thursday, on the dot
    (datetime(2026, 11, 6, 0, tzinfo=SHANGHAI), None, "department"),
    (eod(2026, 11, 10), None, "department"),            # twice the deadline, on the dot
    (datetime(2026, 11, 11, 0, tzinfo=SHANGHAI), None, "branch"),
    (datetime(2026, 11, 6, 0, tzinfo=SHANGHAI), "department", None),
    (datetime(2026, 11, 11, 0, tzinfo=SHANGHAI), "department", "branch"),
    (datetime(2026, 11, 11, 0, tzinfo=SHANGHAI), "branch", None),
    (datetime(2026, 11, 6, 0, tzinfo=SHANGHAI), "branch", None),  # never back down
])
def test_escalation_of_an_unhandled_orange_warning(now: datetime, already: str | None,
                                                   step: str | None) -> None:
    assert escalation_due("orange", MONDAY, now, CAL, escalated=already) == step
    assert escalation_due("critical", MONDAY, now, CAL, escalated=already) == step


def test_handling_errors_say_what_to_choose_in_both_languages() -> None:
    def errors(kind: str | None, action: str | None) -> list[tuple[str, str, str]]:
        return [(e.field, e.message_zh, e.message_en) for e in handling_errors(kind, action)]

    assert errors("false_alarm", None) == [] and errors("explained", "watch") == []
    assert errors("risk_confirmed", "freeze") == []
    assert errors(None, None) == [("outcome_kind", "请选择核查结论：误报、已解释或风险确认",
                                   "choose false_alarm, explained or risk_confirmed")]
    assert errors("risk_confirmed", "close") == [
        ("action", "处置措施应为持续关注、压降额度、冻结额度或提前收回",
         "action must be watch, reduce_limit, freeze or recover")]
    assert errors("risk_confirmed", None) == [("action", "风险确认须选择处置措施",
                                               "a confirmed risk needs an action")]
    only_watch = [("action", "误报或已解释的预警只能持续关注",
                   "a false alarm or explained warning can only be watched")]
    assert errors("explained", "freeze") == only_watch
    assert errors("false_alarm", "recover") == only_watch

"""Handling a warning (domain.ews.handling): what a record needs, and when it escalates."""

from __future__ import annotations

from datetime import datetime

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.ews.handling import ACTIONS, OUTCOMES, escalation_due, handling_errors

CAL = WorkingDayCalendar()
MONDAY = datetime(2026, 11, 9, 10, tzinfo=SHANGHAI)


def fields(kind: str | None, action: str | None) -> list[str]:
    return [e.field for e in handling_errors(kind, action)]


def test_a_confirmed_risk_needs_an_action_and_a_false_alarm_only_watching() -> None:
    assert fields("risk_confirmed", None) == ["action"]
    assert all(fields("risk_confirmed", a) == [] for a in ACTIONS)
    assert fields("false_alarm", None) == [] and fields("explained", "watch") == []
    assert fields("false_alarm", "freeze") == ["action"]
    assert fields("maybe", None) == ["outcome_kind"]
    assert fields("risk_confirmed", "sell") == ["action"]
    assert all(zh and en for zh, en in (*OUTCOMES.values(), *ACTIONS.values()))


def test_red_escalates_after_one_working_day_yellow_after_five() -> None:
    tuesday_night = datetime(2026, 11, 10, 23, tzinfo=SHANGHAI)
    wednesday = datetime(2026, 11, 11, 9, tzinfo=SHANGHAI)
    assert escalation_due("red", MONDAY, tuesday_night, CAL, escalated=None) is None
    assert escalation_due("red", MONDAY, wednesday, CAL, escalated=None) == "department"
    assert escalation_due("yellow", MONDAY, wednesday, CAL, escalated=None) is None
    later = datetime(2026, 11, 17, 9, tzinfo=SHANGHAI)  # past 5 working days, not 10
    assert escalation_due("yellow", MONDAY, later, CAL, escalated=None) == "department"
    assert escalation_due("yellow", MONDAY, later, CAL, escalated="department") is None


def test_past_twice_the_deadline_the_branch_is_told_once() -> None:
    friday = datetime(2026, 11, 13, 9, tzinfo=SHANGHAI)
    assert escalation_due("red", MONDAY, friday, CAL, escalated="department") == "branch"
    assert escalation_due("red", MONDAY, friday, CAL, escalated="branch") is None

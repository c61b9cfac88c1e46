"""Outreach refusals as staff read them (docs/marketing.md, "Outreach"), the next-action date's
edge (today is allowed, yesterday is not) and the replay of a log that holds a move the table
does not know."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from yibaodai.domain.marketing.outreach import (
    Outcome,
    OutreachState,
    Refusal,
    current_state,
    transition,
)

TODAY = date(2026, 12, 1)


def test_authorized_is_the_end_of_outreach() -> None:
    assert transition(OutreachState.AUTHORIZED, Outcome.INTERESTED, next_action_on=None,
                      today=TODAY) == Refusal(
        "terminal_state", "该机构已授权，无需继续营销",
        "the institution has already authorized; outreach is over")


def test_a_move_the_bank_does_not_allow_names_the_state_and_the_outcome() -> None:
    assert transition(OutreachState.LISTED, Outcome.VISITED, next_action_on=None,
                      today=TODAY) == Refusal(
        "invalid_transition", "当前状态（未联系）不能记录“已走访”",
        "cannot record visited when not contacted yet")
    refused = transition(OutreachState.VISITED, Outcome.INTERESTED, next_action_on=None,
                         today=TODAY)
    assert refused == Refusal("invalid_transition", "当前状态（已走访）不能记录“有意向”",
                              "cannot record interested when visited")


def test_a_scheduled_visit_needs_a_date_from_today_on() -> None:
    assert transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED, next_action_on=None,
                      today=TODAY) == Refusal(
        "next_action_required", "约见须填写约见日期",
        "a scheduled visit needs its date (next action date)")
    assert transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED, next_action_on=TODAY,
                      today=TODAY) is OutreachState.VISIT_SCHEDULED
    yesterday = TODAY - timedelta(days=1)
    assert transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED,
                      next_action_on=yesterday, today=TODAY) == Refusal(
        "next_action_in_past", "下次跟进日期不能早于今天",
        "the next action date cannot be in the past")
    # any outcome may carry a call-back date, never a past one
    assert transition(OutreachState.LISTED, Outcome.NOT_REACHED, next_action_on=yesterday,
                      today=TODAY) == Refusal(
        "next_action_in_past", "下次跟进日期不能早于今天",
        "the next action date cannot be in the past")
    assert transition(OutreachState.LISTED, Outcome.NOT_REACHED, next_action_on=None,
                      today=TODAY) is OutreachState.NOT_REACHED


@pytest.mark.parametrize(("log", "state"), [
    ([], OutreachState.LISTED),
    ([Outcome.VISITED], OutreachState.LISTED),             # not allowed: ignored
    ([Outcome.VISITED, Outcome.NOT_REACHED], OutreachState.NOT_REACHED),
    ([Outcome.INTERESTED, Outcome.NOT_REACHED], OutreachState.INTERESTED),
    ([Outcome.INTERESTED, Outcome.VISIT_SCHEDULED, Outcome.NOT_REACHED, Outcome.VISITED],
     OutreachState.VISITED),
    ([Outcome.AUTHORIZED, Outcome.NOT_INTERESTED], OutreachState.AUTHORIZED),
])
def test_the_log_replays_to_its_state(log: list[Outcome], state: OutreachState) -> None:
    assert current_state(log) is state

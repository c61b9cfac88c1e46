"""Outreach transitions, the funnel, the leaderboard, attribution and load balancing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.domain.marketing.funnel import (
    STAGES,
    Progress,
    Stage,
    Target,
    balance,
    creditable_outreach,
    funnel,
    funnel_by_sub_branch,
    furthest_stage,
    leaderboard,
)
from yibaodai.domain.marketing.outreach import (
    TRANSITIONS,
    Outcome,
    OutreachState,
    Refusal,
    current_state,
    transition,
)

TODAY = date(2026, 9, 1)


def test_a_call_that_does_not_get_through_keeps_an_interested_prospect_interested() -> None:
    assert transition(OutreachState.LISTED, Outcome.NOT_REACHED, next_action_on=None,
                      today=TODAY) is OutreachState.NOT_REACHED
    assert transition(OutreachState.INTERESTED, Outcome.NOT_REACHED, next_action_on=None,
                      today=TODAY) is OutreachState.INTERESTED


def test_a_visit_cannot_be_recorded_before_any_interest() -> None:
    result = transition(OutreachState.LISTED, Outcome.VISITED, next_action_on=None, today=TODAY)
    assert isinstance(result, Refusal) and result.code == "invalid_transition"


def test_a_scheduled_visit_needs_a_date_that_is_not_past() -> None:
    missing = transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED, next_action_on=None,
                         today=TODAY)
    past = transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED,
                      next_action_on=TODAY - timedelta(days=1), today=TODAY)
    assert isinstance(missing, Refusal) and missing.code == "next_action_required"
    assert isinstance(past, Refusal) and past.code == "next_action_in_past"
    assert transition(OutreachState.INTERESTED, Outcome.VISIT_SCHEDULED, next_action_on=TODAY,
                      today=TODAY) is OutreachState.VISIT_SCHEDULED


@pytest.mark.parametrize("outcome", list(Outcome))
def test_nothing_can_be_recorded_after_authorization(outcome: Outcome) -> None:
    result = transition(OutreachState.AUTHORIZED, outcome, next_action_on=TODAY, today=TODAY)
    assert isinstance(result, Refusal) and result.code == "terminal_state"


@given(st.lists(st.sampled_from(list(Outcome)), max_size=15))
def test_replaying_the_allowed_outcomes_gives_the_state_the_table_reached(
        outcomes: list[Outcome]) -> None:
    state, allowed = OutreachState.LISTED, []
    for outcome in outcomes:
        result = transition(state, outcome, next_action_on=TODAY, today=TODAY)
        if isinstance(result, OutreachState):
            state = result
            allowed.append(outcome)
    assert current_state(allowed) is state
    if allowed:
        assert (OutreachState.LISTED, allowed[0]) in TRANSITIONS


def test_the_furthest_stage_wins() -> None:
    assert furthest_stage(contacted=True, interested=False, authorized=False, admitted=True,
                          reported=False, drawn=False) is Stage.ADMITTED
    assert furthest_stage(contacted=False, interested=False, authorized=False, admitted=False,
                          reported=False, drawn=False) is Stage.LISTED


progress = st.builds(Progress, st.sampled_from(["DL001", "DL002", None]),
                     st.sampled_from(STAGES),
                     st.decimals(min_value=0, max_value=10**6, places=2),
                     st.decimals(min_value=0, max_value=10**6, places=2))


@given(st.lists(progress, max_size=40))
def test_the_funnel_never_widens_and_counts_everyone_listed(items: list[Progress]) -> None:
    steps = funnel(items)
    counts = [s.count for s in steps]
    assert counts[0] == len(items)
    assert counts == sorted(counts, reverse=True)
    assert [s.amount is None for s in steps] == [s not in (Stage.ADMITTED, Stage.REPORTED,
                                                           Stage.DRAWN) for s in STAGES]
    assert steps[-1].amount == sum((p.drawn for p in items), Decimal("0.00"))
    by_sub = funnel_by_sub_branch(items)
    assert sum(f[0].count for f in by_sub.values()) == sum(p.sub_branch is not None
                                                           for p in items)


def test_the_leaderboard_ranks_by_drawn_amount_and_shares_ties() -> None:
    by_sub = funnel_by_sub_branch([
        Progress("DL001", Stage.DRAWN, Decimal("500000.00"), Decimal("300000.00")),
        Progress("DL002", Stage.DRAWN, Decimal("900000.00"), Decimal("800000.00")),
        Progress("DL003", Stage.AUTHORIZED)])
    board = leaderboard(by_sub, targets={"DL002": Target(4, Decimal("1600000.00"))},
                        sub_branches=["DL001", "DL002", "DL003", "DL004"])
    assert [(s.rank, s.sub_branch) for s in board] == [(1, "DL002"), (2, "DL001"),
                                                        (3, "DL003"), (4, "DL004")]
    assert board[0].count_attainment == 0.25 and board[0].amount_attainment == 0.5
    tied = leaderboard({}, targets={}, sub_branches=["DL002", "DL001"])
    assert [(s.rank, s.sub_branch) for s in tied] == [(1, "DL001"), (1, "DL002")]


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 9, day, hour, tzinfo=SHANGHAI)


def test_an_authorization_is_credited_to_the_latest_outreach_before_it_in_the_period() -> None:
    events = [(1, _at(1)), (2, _at(3)), (3, _at(9)), (4, _at(20))]
    assert creditable_outreach(events, authorized_at=_at(10), since=_at(2, 0)) == 3
    assert creditable_outreach(events, authorized_at=_at(2), since=_at(2, 0)) is None
    assert creditable_outreach([(1, _at(1))], authorized_at=_at(10), since=_at(2, 0)) is None


@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.integers(0, 30))
def test_balancing_evens_out_the_loads(loads: list[int], items: int) -> None:
    managers = {100 + i: load for i, load in enumerate(loads)}
    given_to = balance(list(range(items)), loads=managers)
    after = dict(managers)
    for manager in given_to.values():
        after[manager] += 1
    assert len(given_to) == items
    if items >= sum(max(managers.values()) - v for v in managers.values()):
        assert max(after.values()) - min(after.values()) <= 1
    assert balance([1, 2], loads={}) == {}

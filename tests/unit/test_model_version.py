"""The model version lifecycle: one transition table, maker-checker by user id."""

from __future__ import annotations

import pytest

from yibaodai.auth.roles import Role
from yibaodai.domain.model_version import (
    Acting,
    Action,
    Event,
    Refusal,
    Stage,
    activation_plan,
    challenger_plan,
    stage_of,
    transition,
)

MAKER = Acting(1, Role.CLIENT_MANAGER)
CHECKER = Acting(2, Role.BRANCH_MANAGER)
OTHER_MANAGER = Acting(3, Role.SUB_BRANCH_MANAGER)


def run(*steps: tuple[Action, Acting]) -> list[Event]:
    events: list[Event] = []
    for action, by in steps:
        result = transition(events, action, by=by)
        assert isinstance(result, Event), result
        events.append(result)
    return events


def submitted() -> list[Event]:
    return run((Action.CREATE, MAKER), (Action.SUBMIT, MAKER))


def test_a_version_goes_draft_submitted_approved_active_with_two_people() -> None:
    events = run((Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER),
                 (Action.ACTIVATE, CHECKER))
    assert [e.to_stage for e in events] == [Stage.DRAFT, Stage.SUBMITTED, Stage.APPROVED,
                                            Stage.ACTIVE]
    assert stage_of(events) is Stage.ACTIVE
    assert events[2].actor_id == CHECKER.user_id


def test_the_submitter_cannot_approve_even_as_a_manager() -> None:
    events = run((Action.CREATE, CHECKER), (Action.SUBMIT, CHECKER))
    refusal = transition(events, Action.APPROVE, by=CHECKER)
    assert isinstance(refusal, Refusal) and refusal.code == "four_eyes"
    assert isinstance(transition(events, Action.APPROVE, by=OTHER_MANAGER), Event)


@pytest.mark.parametrize("role", [Role.CLIENT_MANAGER, Role.BRANCH_ADMIN, Role.AUDITOR])
def test_only_a_manager_role_may_approve(role: Role) -> None:
    refusal = transition(submitted(), Action.APPROVE, by=Acting(9, role))
    assert isinstance(refusal, Refusal) and refusal.code == "role_not_allowed"


@pytest.mark.parametrize(("action", "stage_after"), [
    (Action.ACTIVATE, Stage.SUBMITTED), (Action.SET_CHALLENGER, Stage.SUBMITTED),
    (Action.SUBMIT, Stage.SUBMITTED), (Action.RETIRE, Stage.SUBMITTED)])
def test_steps_cannot_be_skipped(action: Action, stage_after: Stage) -> None:
    events = submitted()
    refusal = transition(events, action, by=CHECKER)
    assert isinstance(refusal, Refusal) and refusal.code == "invalid_transition"
    assert stage_of(events) is stage_after


def test_rejected_and_retired_versions_are_final() -> None:
    events = submitted()
    events.append(transition(events, Action.REJECT, by=CHECKER))  # type: ignore[arg-type]
    refusal = transition(events, Action.SUBMIT, by=MAKER)
    assert isinstance(refusal, Refusal) and refusal.code == "terminal_stage"


def test_a_challenger_can_later_be_activated() -> None:
    events = run((Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER),
                 (Action.SET_CHALLENGER, CHECKER), (Action.ACTIVATE, OTHER_MANAGER))
    assert stage_of(events) is Stage.ACTIVE


def test_the_system_may_seed_without_a_checker() -> None:
    system = Acting(None, None)
    events = run((Action.CREATE, system), (Action.SUBMIT, system), (Action.APPROVE, system),
                 (Action.ACTIVATE, system))
    assert stage_of(events) is Stage.ACTIVE


def test_creating_twice_and_moving_a_missing_version_are_refused() -> None:
    assert isinstance(transition(submitted(), Action.CREATE, by=MAKER), Refusal)
    assert isinstance(transition([], Action.SUBMIT, by=MAKER), Refusal)


def test_activation_retires_the_active_one_so_exactly_one_stays_active() -> None:
    stages = {1: Stage.ACTIVE, 2: Stage.APPROVED, 3: Stage.CHALLENGER}
    assert activation_plan(stages, 2) == [(1, Action.RETIRE), (2, Action.ACTIVATE)]
    assert activation_plan(stages, 3) == [(1, Action.RETIRE), (3, Action.ACTIVATE)]
    assert challenger_plan(stages, 2) == [(3, Action.RETIRE), (2, Action.SET_CHALLENGER)]

"""The model version lifecycle: one transition table, who may make each move, maker-checker
on user ids. The expected tables below are the bank's rule written out by hand (docs/modelkit.md
"Governance"), not read back from the code."""

from __future__ import annotations

import itertools

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
    makers_of,
    stage_of,
    transition,
)

MAKER = Acting(1, Role.CLIENT_MANAGER)
CHECKER = Acting(2, Role.BRANCH_MANAGER)
SUB_BRANCH_MANAGER = Acting(3, Role.SUB_BRANCH_MANAGER)
SECOND_GM = Acting(4, Role.BRANCH_MANAGER)
SYSTEM = Acting(None, None)

#: Who may make each move (the bank's rule).
ALLOWED_ROLES = {
    Action.CREATE: {Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER},
    Action.SUBMIT: {Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER},
    Action.APPROVE: {Role.BRANCH_MANAGER},
    Action.REJECT: {Role.BRANCH_MANAGER},
    Action.ACTIVATE: {Role.BRANCH_MANAGER},
    Action.SET_CHALLENGER: {Role.BRANCH_MANAGER},
    Action.RETIRE: {Role.BRANCH_MANAGER},
}
#: From which stages each move may start.
SOURCES = {
    Action.SUBMIT: {Stage.DRAFT},
    Action.APPROVE: {Stage.SUBMITTED},
    Action.REJECT: {Stage.SUBMITTED},
    Action.ACTIVATE: {Stage.APPROVED, Stage.CHALLENGER},
    Action.SET_CHALLENGER: {Stage.APPROVED},
    Action.RETIRE: {Stage.ACTIVE, Stage.CHALLENGER},
}
TARGETS = {Action.SUBMIT: Stage.SUBMITTED, Action.APPROVE: Stage.APPROVED,
           Action.REJECT: Stage.REJECTED, Action.ACTIVATE: Stage.ACTIVE,
           Action.SET_CHALLENGER: Stage.CHALLENGER, Action.RETIRE: Stage.RETIRED}
#: The moves (by the maker, then the checker) that lead to each stage.
PATHS: dict[Stage, list[tuple[Action, Acting]]] = {
    Stage.DRAFT: [(Action.CREATE, MAKER)],
    Stage.SUBMITTED: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER)],
    Stage.APPROVED: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER)],
    Stage.CHALLENGER: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER),
                       (Action.SET_CHALLENGER, CHECKER)],
    Stage.ACTIVE: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER),
                   (Action.ACTIVATE, CHECKER)],
    Stage.RETIRED: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.APPROVE, CHECKER),
                    (Action.SET_CHALLENGER, CHECKER), (Action.RETIRE, CHECKER)],
    Stage.REJECTED: [(Action.CREATE, MAKER), (Action.SUBMIT, MAKER), (Action.REJECT, CHECKER)],
}


def run(*steps: tuple[Action, Acting]) -> list[Event]:
    events: list[Event] = []
    for action, by in steps:
        result = transition(events, action, by=by)
        assert isinstance(result, Event), result
        events.append(result)
    return events


def at(stage: Stage) -> list[Event]:
    events = run(*PATHS[stage])
    assert stage_of(events) is stage
    return events


def refusal_code(result: Event | Refusal) -> str | None:
    return result.code if isinstance(result, Refusal) else None


#: A stage each move may start from as a user (the active version is only ever replaced).
USER_START = {Action.SUBMIT: Stage.DRAFT, Action.APPROVE: Stage.SUBMITTED,
              Action.REJECT: Stage.SUBMITTED, Action.ACTIVATE: Stage.APPROVED,
              Action.SET_CHALLENGER: Stage.APPROVED, Action.RETIRE: Stage.CHALLENGER}


@pytest.mark.parametrize(("action", "role"), list(itertools.product(
    [a for a in Action if a is not Action.CREATE], list(Role))))
def test_each_move_is_allowed_to_exactly_the_roles_the_bank_names(action: Action,
                                                                  role: Role) -> None:
    start = USER_START[action]
    # SUBMIT is the maker's own move; every other move is made by someone who is no maker
    user_id = MAKER.user_id if action is Action.SUBMIT else 99
    result = transition(at(start), action, by=Acting(user_id, role))
    if role in ALLOWED_ROLES[action]:
        assert isinstance(result, Event)
        assert (result.from_stage, result.to_stage, result.actor_id) == (
            start, TARGETS[action], user_id)
    else:
        assert refusal_code(result) == "role_not_allowed"
        assert isinstance(result, Refusal) and result.message_zh and result.message_en


@pytest.mark.parametrize("role", list(Role))
def test_only_staff_who_work_with_the_data_may_create_a_version(role: Role) -> None:
    result = transition([], Action.CREATE, by=Acting(7, role))
    if role in ALLOWED_ROLES[Action.CREATE]:
        assert isinstance(result, Event) and result.to_stage is Stage.DRAFT
    else:
        assert refusal_code(result) == "role_not_allowed"


@pytest.mark.parametrize(("action", "stage"), [
    (a, s) for a in SOURCES for s in Stage if s not in SOURCES[a]])
def test_a_move_from_any_other_stage_is_refused_with_its_code(action: Action,
                                                              stage: Stage) -> None:
    events = at(stage)
    result = transition(events, action, by=SECOND_GM)
    expected = "terminal_stage" if stage in (Stage.RETIRED, Stage.REJECTED) else \
        "invalid_transition"
    assert refusal_code(result) == expected
    assert stage_of(events) is stage


@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT])
def test_the_submitter_may_not_check_their_own_version_even_as_general_manager(
        action: Action) -> None:
    events = run((Action.CREATE, CHECKER), (Action.SUBMIT, CHECKER))
    assert refusal_code(transition(events, action, by=CHECKER)) == "four_eyes"
    assert isinstance(transition(events, action, by=SECOND_GM), Event)


@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT])
def test_the_author_may_not_check_a_version_someone_else_submitted(action: Action) -> None:
    events = run((Action.CREATE, CHECKER), (Action.SUBMIT, SUB_BRANCH_MANAGER))
    assert makers_of(events) == {CHECKER.user_id, SUB_BRANCH_MANAGER.user_id}
    assert refusal_code(transition(events, action, by=CHECKER)) == "four_eyes"
    assert isinstance(transition(events, action, by=SECOND_GM), Event)


def test_no_one_retires_the_active_version_it_is_only_replaced_by_activating_another(
        ) -> None:
    active = at(Stage.ACTIVE)
    assert refusal_code(transition(active, Action.RETIRE, by=SECOND_GM)) == "replace_active"
    assert isinstance(transition(active, Action.RETIRE, by=SYSTEM), Event)  # inside activation


def test_a_sub_branch_manager_cannot_approve_or_activate_a_branch_wide_model() -> None:
    assert refusal_code(transition(at(Stage.SUBMITTED), Action.APPROVE,
                                   by=SUB_BRANCH_MANAGER)) == "role_not_allowed"
    assert refusal_code(transition(at(Stage.APPROVED), Action.ACTIVATE,
                                   by=SUB_BRANCH_MANAGER)) == "role_not_allowed"


def test_a_version_goes_draft_submitted_approved_active_with_two_people() -> None:
    events = at(Stage.ACTIVE)
    assert [e.to_stage for e in events] == [Stage.DRAFT, Stage.SUBMITTED, Stage.APPROVED,
                                            Stage.ACTIVE]
    assert [e.actor_id for e in events] == [1, 1, 2, 2]


def test_a_challenger_can_later_be_activated_or_retired() -> None:
    events = at(Stage.CHALLENGER)
    assert isinstance(transition(events, Action.ACTIVATE, by=SECOND_GM), Event)
    assert isinstance(transition(events, Action.RETIRE, by=SECOND_GM), Event)


def test_the_system_may_seed_without_a_checker() -> None:
    events = run((Action.CREATE, SYSTEM), (Action.SUBMIT, SYSTEM), (Action.APPROVE, SYSTEM),
                 (Action.ACTIVATE, SYSTEM))
    assert stage_of(events) is Stage.ACTIVE
    assert makers_of(events) == frozenset()


def test_creating_twice_and_moving_a_missing_version_are_refused() -> None:
    assert refusal_code(transition(at(Stage.DRAFT), Action.CREATE, by=MAKER)) == \
        "already_created"
    assert refusal_code(transition([], Action.SUBMIT, by=MAKER)) == "no_such_version"


def test_activation_retires_the_active_one_so_exactly_one_stays_active() -> None:
    stages = {1: Stage.ACTIVE, 2: Stage.APPROVED, 3: Stage.CHALLENGER}
    assert activation_plan(stages, 2) == [(1, Action.RETIRE), (2, Action.ACTIVATE)]
    assert activation_plan(stages, 3) == [(1, Action.RETIRE), (3, Action.ACTIVATE)]
    assert challenger_plan(stages, 2) == [(3, Action.RETIRE), (2, Action.SET_CHALLENGER)]


def test_every_refusal_explains_itself_in_both_languages() -> None:
    refusals = [
        transition(at(Stage.DRAFT), Action.CREATE, by=MAKER),
        transition([], Action.SUBMIT, by=MAKER),
        transition(at(Stage.RETIRED), Action.ACTIVATE, by=SECOND_GM),
        transition(at(Stage.DRAFT), Action.APPROVE, by=SECOND_GM),
        transition(at(Stage.ACTIVE), Action.RETIRE, by=SECOND_GM),
        transition(at(Stage.SUBMITTED), Action.APPROVE, by=MAKER),
        transition(run((Action.CREATE, CHECKER), (Action.SUBMIT, CHECKER)), Action.APPROVE,
                   by=CHECKER),
    ]
    assert [(r.code, r.message_zh, r.message_en) for r in refusals
            if isinstance(r, Refusal)] == [
        ("already_created", "版本已存在", "the version already exists"),
        ("no_such_version", "版本不存在", "no such version"),
        ("terminal_stage", "版本已终结（retired）", "the version is retired"),
        ("invalid_transition", "当前阶段（draft）不能执行approve",
         "cannot approve a version that is draft"),
        ("replace_active", "生效版本只能通过启用新版本来替换",
         "the active version is only replaced, by activating another version"),
        ("role_not_allowed", "当前角色无权执行此操作（须分行部门总经理）",
         "your role may not do this (the branch department general manager approves and "
         "runs a branch-wide model)"),
        ("four_eyes", "审批人不能是该版本的起草人或提交人（双人复核）",
         "the checker must be a different user than the version's author and submitter "
         "(maker-checker)"),
    ]

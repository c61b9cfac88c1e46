"""Every move of a model version, from every stage, by every role, written from the lifecycle
in docs/modelkit.md ("Export and governance") and not from the module's table: makers
(department and client managers) create and submit; the branch department general manager
approves or rejects (never a maker of the version), activates, sets a challenger and retires a
challenger; the active version is replaced only by activating another; retired and rejected
are final. Each refusal has its code and says why in Chinese and English."""

from __future__ import annotations

import pytest

from yibaodai.domain.model_version import (
    Acting,
    Action,
    Event,
    Refusal,
    Stage,
    transition,
)
from yibaodai.domain.roles import Role

MAKER_ROLES = {Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER}
CHECKER_ROLES = {Role.BRANCH_MANAGER}
AUTHOR, CHECKER = 7, 9

#: the moves the lifecycle allows: (from, action) -> to
ALLOWED = {
    (Stage.DRAFT, Action.SUBMIT): Stage.SUBMITTED,
    (Stage.SUBMITTED, Action.APPROVE): Stage.APPROVED,
    (Stage.SUBMITTED, Action.REJECT): Stage.REJECTED,
    (Stage.APPROVED, Action.ACTIVATE): Stage.ACTIVE,
    (Stage.APPROVED, Action.SET_CHALLENGER): Stage.CHALLENGER,
    (Stage.CHALLENGER, Action.ACTIVATE): Stage.ACTIVE,
    (Stage.CHALLENGER, Action.RETIRE): Stage.RETIRED,
    (Stage.ACTIVE, Action.RETIRE): Stage.RETIRED,  # by the system only
}
PATH = {Stage.DRAFT: [], Stage.SUBMITTED: [Action.SUBMIT],
        Stage.APPROVED: [Action.SUBMIT, Action.APPROVE],
        Stage.REJECTED: [Action.SUBMIT, Action.REJECT],
        Stage.ACTIVE: [Action.SUBMIT, Action.APPROVE, Action.ACTIVATE],
        Stage.CHALLENGER: [Action.SUBMIT, Action.APPROVE, Action.SET_CHALLENGER],
        Stage.RETIRED: [Action.SUBMIT, Action.APPROVE, Action.ACTIVATE, Action.RETIRE]}


def history(stage: Stage) -> list[Event]:
    """A version brought to ``stage``: created and submitted by AUTHOR, the rest by the
    system, so the log is the same whoever is asked about next."""
    events = [Event(Action.CREATE, None, Stage.DRAFT, AUTHOR)]
    current = Stage.DRAFT
    for action in PATH[stage]:
        target = ALLOWED[(current, action)]
        events.append(Event(action, current, target,
                            AUTHOR if action is Action.SUBMIT else None))
        current = target
    return events


def expected(stage: Stage, action: Action, role: Role, user: int) -> Stage | str:
    if stage in (Stage.RETIRED, Stage.REJECTED):
        return "terminal_stage"
    if (stage, action) not in ALLOWED:
        return "invalid_transition"
    if stage is Stage.ACTIVE:
        return "replace_active"
    allowed_roles = MAKER_ROLES if action is Action.SUBMIT else CHECKER_ROLES
    if role not in allowed_roles:
        return "role_not_allowed"
    if action in (Action.APPROVE, Action.REJECT) and user == AUTHOR:
        return "four_eyes"
    return ALLOWED[(stage, action)]


CASES = [(stage, action, role, user) for stage in Stage for action in Action
         if action is not Action.CREATE for role in Role for user in (AUTHOR, CHECKER)]


@pytest.mark.parametrize(("stage", "action", "role", "user"), CASES)
def test_every_move_from_every_stage_by_every_role(stage: Stage, action: Action, role: Role,
                                                   user: int) -> None:
    events = history(stage)
    result = transition(events, action, by=Acting(user, role))
    want = expected(stage, action, role, user)
    if isinstance(want, Stage):
        assert result == Event(action, stage, want, user)
    else:
        assert isinstance(result, Refusal) and result.code == want
        assert result.message_zh and result.message_en
        assert result.message_zh != result.message_en


@pytest.mark.parametrize(("stage", "action"), sorted(ALLOWED, key=str))
def test_the_system_makes_every_allowed_move_whatever_the_makers(stage: Stage,
                                                                 action: Action) -> None:
    result = transition(history(stage), action, by=Acting(None, None))
    assert result == Event(action, stage, ALLOWED[(stage, action)], None)


def test_a_user_without_a_role_may_do_nothing() -> None:
    for stage, action in ALLOWED:
        if stage is Stage.ACTIVE:
            continue
        result = transition(history(stage), action, by=Acting(CHECKER, None))
        assert isinstance(result, Refusal) and result.code == "role_not_allowed"
    result = transition([], Action.CREATE, by=Acting(CHECKER, None))
    assert isinstance(result, Refusal) and result.code == "role_not_allowed"


@pytest.mark.parametrize("role", list(Role))
def test_creating_a_version(role: Role) -> None:
    result = transition([], Action.CREATE, by=Acting(AUTHOR, role))
    if role in MAKER_ROLES:
        assert result == Event(Action.CREATE, None, Stage.DRAFT, AUTHOR)
    else:
        assert isinstance(result, Refusal) and result.code == "role_not_allowed"
        assert "起草" in result.message_zh and "author" in result.message_en
    again = transition(history(Stage.DRAFT), Action.CREATE, by=Acting(AUTHOR, role))
    assert again == Refusal("already_created", "版本已存在", "the version already exists")
    assert transition([], Action.CREATE, by=Acting(None, None)) == Event(
        Action.CREATE, None, Stage.DRAFT, None)


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.CREATE])
def test_nothing_happens_to_a_version_that_does_not_exist(action: Action) -> None:
    result = transition([], action, by=Acting(CHECKER, Role.BRANCH_MANAGER))
    assert result == Refusal("no_such_version", "版本不存在", "no such version")


def test_refusals_name_the_stage_and_the_action() -> None:
    retired = transition(history(Stage.RETIRED), Action.ACTIVATE,
                         by=Acting(CHECKER, Role.BRANCH_MANAGER))
    assert retired == Refusal("terminal_stage", "版本已终结（retired）", "the version is retired")
    wrong = transition(history(Stage.DRAFT), Action.APPROVE,
                       by=Acting(CHECKER, Role.BRANCH_MANAGER))
    assert wrong == Refusal("invalid_transition", "当前阶段（draft）不能执行approve",
                            "cannot approve a version that is draft")
    active = transition(history(Stage.ACTIVE), Action.RETIRE,
                        by=Acting(CHECKER, Role.BRANCH_MANAGER))
    assert isinstance(active, Refusal) and "启用新版本" in active.message_zh
    assert "activating another version" in active.message_en
    own = transition(history(Stage.SUBMITTED), Action.REJECT,
                     by=Acting(AUTHOR, Role.BRANCH_MANAGER))
    assert isinstance(own, Refusal) and "双人复核" in own.message_zh
    assert "maker-checker" in own.message_en
    sub = transition(history(Stage.APPROVED), Action.ACTIVATE,
                     by=Acting(CHECKER, Role.SUB_BRANCH_MANAGER))
    assert isinstance(sub, Refusal) and "分行部门总经理" in sub.message_zh

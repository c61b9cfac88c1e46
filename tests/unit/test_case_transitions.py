"""The case transition table: every command from every state, for every role."""

from __future__ import annotations

import pytest

from yibaodai.auth.roles import Role
from yibaodai.domain.case import (
    SYSTEM,
    TERMINAL,
    TRANSITIONS,
    CaseState,
    Command,
    Refusal,
    transition,
)


@pytest.mark.parametrize("command", list(Command))
@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("role", [*Role, None])
def test_a_move_is_allowed_exactly_when_the_table_says_so(
        command: Command, state: CaseState, role: Role | None) -> None:
    sources, target, allowed = TRANSITIONS[command]
    permitted_actor = role is None if allowed == SYSTEM else role in allowed
    expected_ok = state not in TERMINAL and state in sources and permitted_actor
    result = transition(state, command, role=role)
    if expected_ok:
        assert result == target
    else:
        assert isinstance(result, Refusal) and result.message_zh and result.message_en


def test_the_happy_path_runs_from_assigned_to_closed() -> None:
    state = CaseState.ASSIGNED
    for command, role in [(Command.CLAIM, Role.CLIENT_MANAGER),
                          (Command.VERIFY_PASS, Role.CLIENT_MANAGER),
                          (Command.CONFIRM, Role.SUB_BRANCH_MANAGER),
                          (Command.MARK_REPORTED, None), (Command.MARK_DRAWN, None),
                          (Command.MARK_CLOSED, None)]:
        result = transition(state, command, role=role)
        assert isinstance(result, CaseState), result
        state = result
    assert state == CaseState.CLOSED


def test_a_client_manager_cannot_confirm_and_staff_cannot_fake_system_events() -> None:
    refused = transition(CaseState.VERIFIED, Command.CONFIRM, role=Role.CLIENT_MANAGER)
    assert isinstance(refused, Refusal) and refused.code == "role_not_allowed"
    faked = transition(CaseState.REPORTED, Command.MARK_DRAWN, role=Role.BRANCH_ADMIN)
    assert isinstance(faked, Refusal) and faked.code == "system_only"

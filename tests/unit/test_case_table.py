"""Every move of a case, allowed and refused, against the bank's rule written out by hand
(DESIGN.md section 1, steps 4-7), not read from ``domain.case.TRANSITIONS``.

The rule: a sub-branch client manager or department manager claims an assigned case and
verifies it (pass or fail); the department manager confirms a verified case, and the branch's
department general manager may too (the service lets the branch confirm only when the
sub-branch has nobody left who may: four eyes, ``cases.service``); reporting,
drawing and closing are the system's moves, on head office's word, and so is head office
returning a confirmed entry (its own rules). A rejected, returned or closed case is final.
"""

from __future__ import annotations

import pytest

from yibaodai.domain.case import CaseState, Command, Refusal, transition
from yibaodai.domain.roles import Role

S = CaseState
C = Command
SUB_BRANCH_STAFF = {Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER}
SYSTEM = None

#: (from, command) -> (to, who may issue it; None = the system alone). Nothing else is allowed.
ALLOWED: dict[tuple[CaseState, Command], tuple[CaseState, set[Role] | None]] = {
    (S.ASSIGNED, C.CLAIM): (S.CLAIMED, SUB_BRANCH_STAFF),
    (S.CLAIMED, C.VERIFY_PASS): (S.VERIFIED, SUB_BRANCH_STAFF),
    (S.CLAIMED, C.VERIFY_FAIL): (S.REJECTED, SUB_BRANCH_STAFF),
    (S.VERIFIED, C.CONFIRM): (S.CONFIRMED, {Role.SUB_BRANCH_MANAGER, Role.BRANCH_MANAGER}),
    (S.CONFIRMED, C.MARK_REPORTED): (S.REPORTED, None),
    (S.CONFIRMED, C.MARK_HO_REJECTED): (S.HO_REJECTED, None),
    (S.REPORTED, C.MARK_DRAWN): (S.DRAWN, None),
    (S.DRAWN, C.MARK_CLOSED): (S.CLOSED, None),
}
FINAL = {S.REJECTED, S.HO_REJECTED, S.CLOSED}
ACTORS: list[Role | None] = [*Role, SYSTEM]


def expected(state: CaseState, command: Command, role: Role | None) -> CaseState | str:
    """The target state, or the refusal code, by the rule above."""
    if state in FINAL:
        return "terminal_state"
    if (state, command) not in ALLOWED:
        return "invalid_transition"
    target, who = ALLOWED[(state, command)]
    if who is None:
        return target if role is None else "system_only"
    return target if role in who else "role_not_allowed"


@pytest.mark.parametrize("role", ACTORS, ids=lambda r: str(r or "system"))
@pytest.mark.parametrize("command", list(Command))
@pytest.mark.parametrize("state", list(CaseState))
def test_every_move_from_every_state_by_every_actor(state: CaseState, command: Command,
                                                   role: Role | None) -> None:
    result = transition(state, command, role=role)
    want = expected(state, command, role)
    if isinstance(want, CaseState):
        assert result is want
    else:
        assert isinstance(result, Refusal) and result.code == want
        assert result.message_zh and result.message_en


def test_the_allowed_moves_are_exactly_these() -> None:
    allowed = sorted((s.value, c.value, str(r)) for s in CaseState for c in Command
                     for r in ACTORS if isinstance(transition(s, c, role=r), CaseState))
    assert allowed == sorted([
        ("assigned", "claim", "client_manager"), ("assigned", "claim", "sub_branch_manager"),
        ("claimed", "verify_pass", "client_manager"),
        ("claimed", "verify_pass", "sub_branch_manager"),
        ("claimed", "verify_fail", "client_manager"),
        ("claimed", "verify_fail", "sub_branch_manager"),
        ("verified", "confirm", "sub_branch_manager"), ("verified", "confirm", "branch_manager"),
        ("confirmed", "mark_reported", "None"), ("confirmed", "mark_ho_rejected", "None"),
        ("reported", "mark_drawn", "None"),
        ("drawn", "mark_closed", "None")])


def test_a_failed_verification_rejects_the_case_for_good() -> None:
    assert transition(S.CLAIMED, C.VERIFY_FAIL, role=Role.CLIENT_MANAGER) is S.REJECTED
    for command in Command:
        for role in ACTORS:
            refused = transition(S.REJECTED, command, role=role)
            assert isinstance(refused, Refusal) and refused.code == "terminal_state"


def test_a_claimed_case_cannot_be_confirmed_before_it_is_verified() -> None:
    refused = transition(S.CLAIMED, C.CONFIRM, role=Role.SUB_BRANCH_MANAGER)
    assert isinstance(refused, Refusal) and refused.code == "invalid_transition"
    assert refused.message_zh == "当前状态（已认领待核实）不能执行此操作"
    assert refused.message_en == "cannot confirm a case in state claimed"


def test_refusals_name_the_state_in_both_languages() -> None:
    closed = transition(S.CLOSED, C.CLAIM, role=Role.CLIENT_MANAGER)
    assert isinstance(closed, Refusal)
    assert (closed.message_zh, closed.message_en) == ("案件已终结（已结清）",
                                                      "the case is closed (closed)")
    faked = transition(S.CONFIRMED, C.MARK_REPORTED, role=Role.BRANCH_ADMIN)
    assert isinstance(faked, Refusal)
    assert (faked.message_zh, faked.message_en) == ("此操作仅由系统执行",
                                                    "only the system may do this")
    role = transition(S.ASSIGNED, C.CLAIM, role=Role.AUDITOR)
    assert isinstance(role, Refusal)
    assert (role.message_zh, role.message_en) == ("当前角色无权执行此操作",
                                                  "your role may not do this")

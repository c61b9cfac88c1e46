"""The case (one admitted institution's way from whitelist to loan) as a transition table.

One table, one ``transition`` function: it validates the move, blocks terminal states and
checks who may act. No other code decides a case's next state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from yibaodai.domain.roles import CAN_CLAIM, CAN_CONFIRM, CAN_VERIFY, Role


class CaseState(StrEnum):
    ASSIGNED = "assigned"        # 已分配
    CLAIMED = "claimed"          # 已认领
    VERIFIED = "verified"        # 已核实
    REJECTED = "rejected"        # 核实不通过
    CONFIRMED = "confirmed"      # 部门经理已确认，待上报
    REPORTED = "reported"        # 已上报总行
    HO_REJECTED = "ho_rejected"  # 总行退回（白名单未被接受）
    DRAWN = "drawn"              # 已放款
    CLOSED = "closed"            # 已结清


STATE_NAMES_ZH = {
    CaseState.ASSIGNED: "已分配待认领",
    CaseState.CLAIMED: "已认领待核实",
    CaseState.VERIFIED: "已核实待确认",
    CaseState.REJECTED: "核实不通过",
    CaseState.CONFIRMED: "已确认待上报",
    CaseState.REPORTED: "已上报总行",
    CaseState.HO_REJECTED: "总行退回",
    CaseState.DRAWN: "已放款",
    CaseState.CLOSED: "已结清",
}

#: A whitelist entry head office refused ends the case: the reasons stay on it, and the
#: institution's next admission opens a new one (fixed data, a new limit).
TERMINAL = frozenset({CaseState.REJECTED, CaseState.HO_REJECTED, CaseState.CLOSED})

#: Who acts for system-driven moves (head office acknowledgements and loan status).
SYSTEM = "system"


class Command(StrEnum):
    CLAIM = "claim"
    VERIFY_PASS = "verify_pass"
    VERIFY_FAIL = "verify_fail"
    CONFIRM = "confirm"
    MARK_REPORTED = "mark_reported"
    MARK_HO_REJECTED = "mark_ho_rejected"
    MARK_DRAWN = "mark_drawn"
    MARK_CLOSED = "mark_closed"


# command -> (allowed from-states, to-state, roles allowed to issue it, or SYSTEM)
TRANSITIONS: dict[Command, tuple[frozenset[CaseState], CaseState, frozenset[Role] | str]] = {
    Command.CLAIM: (frozenset({CaseState.ASSIGNED}), CaseState.CLAIMED, CAN_CLAIM),
    Command.VERIFY_PASS: (frozenset({CaseState.CLAIMED}), CaseState.VERIFIED, CAN_VERIFY),
    Command.VERIFY_FAIL: (frozenset({CaseState.CLAIMED}), CaseState.REJECTED, CAN_VERIFY),
    Command.CONFIRM: (frozenset({CaseState.VERIFIED}), CaseState.CONFIRMED,
                      CAN_CONFIRM | {Role.BRANCH_MANAGER}),
    Command.MARK_REPORTED: (frozenset({CaseState.CONFIRMED}), CaseState.REPORTED, SYSTEM),
    Command.MARK_HO_REJECTED: (frozenset({CaseState.CONFIRMED}), CaseState.HO_REJECTED,
                               SYSTEM),
    Command.MARK_DRAWN: (frozenset({CaseState.REPORTED}), CaseState.DRAWN, SYSTEM),
    Command.MARK_CLOSED: (frozenset({CaseState.DRAWN}), CaseState.CLOSED, SYSTEM),
}


@dataclass(frozen=True)
class Refusal:
    """A move the business does not allow: an expected outcome, not a crash."""

    code: str
    message_zh: str
    message_en: str


def transition(
    state: CaseState, command: Command, *, role: Role | None
) -> CaseState | Refusal:
    """The next state, or why not. ``role`` None means the system itself is acting."""
    sources, target, allowed = TRANSITIONS[command]
    if state in TERMINAL:
        return Refusal("terminal_state", f"案件已终结（{STATE_NAMES_ZH[state]}）",
                       f"the case is closed ({state.value})")
    if state not in sources:
        return Refusal(
            "invalid_transition",
            f"当前状态（{STATE_NAMES_ZH[state]}）不能执行此操作",
            f"cannot {command.value} a case in state {state.value}",
        )
    if allowed == SYSTEM:
        if role is not None:
            return Refusal("system_only", "此操作仅由系统执行", "only the system may do this")
    elif role is None or role not in allowed:
        return Refusal("role_not_allowed", "当前角色无权执行此操作",
                       "your role may not do this")
    return target


#: States in which head office's loan status (8601) may apply: the case has been reported.
LOAN_STATUS_STATES = frozenset({CaseState.REPORTED, CaseState.DRAWN})


def verifier_refusal(*, holder_id: int | None, actor_id: int) -> Refusal | None:
    """Only the case's current holder (the client manager who claimed it, or to whom it was
    handed since) verifies: what was seen on site is answerable to one named person."""
    if holder_id != actor_id:
        return Refusal("not_holder", "只有案件当前的客户经理可以核实",
                       "only the case's current client manager may verify it")
    return None


def four_eyes_refusal(
    *, actor_id: int, role: Role, claimer_id: int | None, verifier_id: int | None,
    sub_branch_confirmers: frozenset[int],
) -> Refusal | None:
    """Four eyes on the sign-off: the confirmer is neither who claimed nor who verified.

    ``sub_branch_confirmers`` are the active department managers of the case's sub-branch.
    Those of them who neither claimed nor verified confirm; only when none is left (a
    sub-branch with one manager who did the claim himself) does the case go to the branch,
    where a branch manager confirms. A branch manager is refused while the sub-branch can
    still confirm, so the branch is not a way round the sub-branch's own sign-off."""
    if actor_id in (claimer_id, verifier_id):
        return Refusal("four_eyes", "认领人、核实人与确认人不能为同一人",
                       "whoever claimed or verified the case may not also confirm it")
    left = sub_branch_confirmers - {claimer_id, verifier_id}
    if role == Role.BRANCH_MANAGER and left:
        return Refusal("sub_branch_can_confirm", "支行仍有可确认的部门经理，应由支行确认",
                       "the sub-branch has a manager who may confirm; it confirms, not the "
                       "branch")
    return None


#: States in which a case may change hands: before verification (afterwards the verifier's
#: findings are the sign-off's subject and stay with them).
REASSIGNABLE = frozenset({CaseState.ASSIGNED, CaseState.CLAIMED})


def reassignment_refusal(
    *, state: CaseState, role: Role, actor_sub_branch: str | None, case_sub_branch: str,
    target_sub_branch: str, to_client_manager: bool,
) -> Refusal | None:
    """Who may move a case by hand, and where to.

    * a branch manager: to any sub-branch (it claims afresh) or to any client manager;
    * a sub-branch's department manager: only to another client manager of the same
      sub-branch (a hand-over inside the team, the clock running on).
    """
    if state not in REASSIGNABLE:
        return Refusal("invalid_transition",
                       f"当前状态（{STATE_NAMES_ZH[state]}）不能改派",
                       f"a case in state {state.value} cannot be reassigned")
    if role == Role.BRANCH_MANAGER:
        return None
    if role != Role.SUB_BRANCH_MANAGER:
        return Refusal("role_not_allowed", "当前角色无权改派案件",
                       "your role may not reassign cases")
    if not to_client_manager or target_sub_branch != case_sub_branch \
            or actor_sub_branch != case_sub_branch:
        return Refusal("outside_sub_branch", "支行部门经理只能把案件交给本支行的客户经理",
                       "a sub-branch manager may hand a case only to a client manager of "
                       "the same sub-branch")
    return None

"""The life of a whitelist model version, as one transition table.

    draft --submit--> submitted --approve--> approved --activate--> active --retire--> retired
                          \\--reject--> rejected      \\--set_challenger--> challenger
                                                       challenger --activate--> active
                                                       challenger --retire--> retired

Maker-checker: ``approve`` needs a manager role and a different user id than the one who
submitted. Activating or setting a challenger needs a manager role. Exactly one version is
active: activating one retires the active one in the same step (see :func:`activation_plan`);
at most one is challenger. The stage of a version is derived from its append-only event log,
never stored beside it. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from yibaodai.domain.roles import Role


class Stage(StrEnum):
    DRAFT = "draft"              # 草稿
    SUBMITTED = "submitted"      # 已提交待审批
    APPROVED = "approved"        # 已审批
    CHALLENGER = "challenger"    # 挑战者（影子运行）
    ACTIVE = "active"            # 生效中
    RETIRED = "retired"          # 已停用
    REJECTED = "rejected"        # 审批不通过


class Action(StrEnum):
    CREATE = "create"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    ACTIVATE = "activate"
    SET_CHALLENGER = "set_challenger"
    RETIRE = "retire"


TERMINAL = frozenset({Stage.RETIRED, Stage.REJECTED})
MANAGERS = frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER})
#: Any active staff member may author and submit a draft.
ANYONE = frozenset(Role)
#: The system itself (seeding the first version; retiring the old active on activation).
SYSTEM_ID = None

# action -> (allowed from-stages, to-stage, roles allowed)
TRANSITIONS: dict[Action, tuple[frozenset[Stage], Stage, frozenset[Role]]] = {
    Action.SUBMIT: (frozenset({Stage.DRAFT}), Stage.SUBMITTED, ANYONE),
    Action.APPROVE: (frozenset({Stage.SUBMITTED}), Stage.APPROVED, MANAGERS),
    Action.REJECT: (frozenset({Stage.SUBMITTED}), Stage.REJECTED, MANAGERS),
    Action.ACTIVATE: (frozenset({Stage.APPROVED, Stage.CHALLENGER}), Stage.ACTIVE, MANAGERS),
    Action.SET_CHALLENGER: (frozenset({Stage.APPROVED}), Stage.CHALLENGER, MANAGERS),
    Action.RETIRE: (frozenset({Stage.ACTIVE, Stage.CHALLENGER}), Stage.RETIRED, MANAGERS),
}


@dataclass(frozen=True)
class Acting:
    """Who acts: the user id and role resolved by the server. ``user_id`` None = the system."""

    user_id: int | None
    role: Role | None


@dataclass(frozen=True)
class Event:
    """A row of the version's log, as the domain sees it."""

    action: Action
    from_stage: Stage | None
    to_stage: Stage
    actor_id: int | None


@dataclass(frozen=True)
class Refusal:
    code: str
    message_zh: str
    message_en: str


def stage_of(events: Iterable[Event]) -> Stage | None:
    """The current stage: the to-stage of the last event (None before creation)."""
    stage: Stage | None = None
    for e in events:
        stage = e.to_stage
    return stage


def submitter_of(events: Iterable[Event]) -> int | None:
    """Who made the latest submission (the maker)."""
    maker: int | None = None
    for e in events:
        if e.action is Action.SUBMIT:
            maker = e.actor_id
    return maker


def transition(events: list[Event], action: Action, *, by: Acting) -> Event | Refusal:
    """The event to append, or why not. The system (``by.user_id`` None) bypasses roles and
    four eyes only where noted by the caller (seeding, retiring the previous active)."""
    if action is Action.CREATE:
        if events:
            return Refusal("already_created", "版本已存在", "the version already exists")
        return Event(Action.CREATE, None, Stage.DRAFT, by.user_id)
    stage = stage_of(events)
    if stage is None:
        return Refusal("no_such_version", "版本不存在", "no such version")
    sources, target, roles = TRANSITIONS[action]
    if stage in TERMINAL:
        return Refusal("terminal_stage", f"版本已终结（{stage.value}）",
                       f"the version is {stage.value}")
    if stage not in sources:
        return Refusal("invalid_transition", f"当前阶段（{stage.value}）不能执行{action.value}",
                       f"cannot {action.value} a version that is {stage.value}")
    if by.user_id is not SYSTEM_ID and (by.role is None or by.role not in roles):
        return Refusal("role_not_allowed", "当前角色无权执行此操作（须部门经理及以上）",
                       "your role may not do this (a manager role is required)")
    if (action is Action.APPROVE and by.user_id is not SYSTEM_ID
            and by.user_id == submitter_of(events)):
        return Refusal("four_eyes", "审批人不能是提交人（双人复核）",
                       "the approver must be a different user than the submitter "
                       "(maker-checker)")
    return Event(action, stage, target, by.user_id)


def activation_plan(stages: Mapping[int, Stage], target: int) -> list[tuple[int, Action]]:
    """The moves that make ``target`` the one active version: retire the current active
    (by the system, in the same transaction), then activate the target."""
    plan = [(vid, Action.RETIRE) for vid, st in sorted(stages.items())
            if st is Stage.ACTIVE and vid != target]
    plan.append((target, Action.ACTIVATE))
    return plan


def challenger_plan(stages: Mapping[int, Stage], target: int) -> list[tuple[int, Action]]:
    """At most one challenger: retire the current one, then set the target."""
    plan = [(vid, Action.RETIRE) for vid, st in sorted(stages.items())
            if st is Stage.CHALLENGER and vid != target]
    plan.append((target, Action.SET_CHALLENGER))
    return plan

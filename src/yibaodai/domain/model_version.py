"""The life of a whitelist model version, as one transition table.

    draft --submit--> submitted --approve--> approved --activate--> active --retire--> retired
                          \\--reject--> rejected      \\--set_challenger--> challenger
                                                       challenger --activate--> active
                                                       challenger --retire--> retired

Who may do what (``TRANSITIONS``; docs/modelkit.md "Export and governance"):

* **makers** create and submit a version: department managers and client managers, who work
  with the data (``MAKERS``). The auditor (independent review) and the branch administrator
  (IT) may not.
* **the checker** approves or rejects, and activates, sets a challenger or retires a
  branch-wide model: the branch department general manager (``BRANCH_MODEL_AUTHORITY``). A
  sub-branch department manager's authority ends at the sub-branch, so it does not reach a
  model the whole branch runs.
* **maker-checker** on user ids: whoever created or submitted the version may not approve or
  reject it, whatever their role.

Exactly one version is active: activating one retires the active one in the same step (see
:func:`activation_plan`), and no one retires the active version otherwise; at most one is
challenger. The stage of a version is derived from its
append-only event log, never stored beside it. Pure: no database, no clock.
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
#: May create and submit a version (the maker).
MAKERS = frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER})
#: May approve, reject, activate, set a challenger and retire a branch-wide model: the branch
#: department general manager (分行部门总经理). No credit role ranks above it in the branch's
#: role list; the administrator (IT) and the auditor are left out on purpose.
BRANCH_MODEL_AUTHORITY = frozenset({Role.BRANCH_MANAGER})
#: The system itself (seeding the first version; retiring the old active on activation).
SYSTEM_ID = None


@dataclass(frozen=True)
class Rule:
    """One row of the transition table."""

    sources: frozenset[Stage]
    target: Stage
    roles: frozenset[Role]
    #: The actor must not be a maker of the version (creator or submitter).
    four_eyes: bool = False
    #: Source stages from which only the system may make the move.
    system_only: frozenset[Stage] = frozenset()


TRANSITIONS: dict[Action, Rule] = {
    Action.SUBMIT: Rule(frozenset({Stage.DRAFT}), Stage.SUBMITTED, MAKERS),
    Action.APPROVE: Rule(frozenset({Stage.SUBMITTED}), Stage.APPROVED, BRANCH_MODEL_AUTHORITY,
                         four_eyes=True),
    Action.REJECT: Rule(frozenset({Stage.SUBMITTED}), Stage.REJECTED, BRANCH_MODEL_AUTHORITY,
                        four_eyes=True),
    Action.ACTIVATE: Rule(frozenset({Stage.APPROVED, Stage.CHALLENGER}), Stage.ACTIVE,
                          BRANCH_MODEL_AUTHORITY),
    Action.SET_CHALLENGER: Rule(frozenset({Stage.APPROVED}), Stage.CHALLENGER,
                                BRANCH_MODEL_AUTHORITY),
    # the active version is retired only by activating its successor (exactly one active)
    Action.RETIRE: Rule(frozenset({Stage.ACTIVE, Stage.CHALLENGER}), Stage.RETIRED,
                        BRANCH_MODEL_AUTHORITY, system_only=frozenset({Stage.ACTIVE})),
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


def makers_of(events: Iterable[Event]) -> frozenset[int]:
    """The user ids that created or submitted the version (the makers)."""
    return frozenset(e.actor_id for e in events
                     if e.action in (Action.CREATE, Action.SUBMIT) and e.actor_id is not None)


_ROLE_REFUSALS = {
    MAKERS: Refusal("role_not_allowed", "当前角色无权起草或提交模型版本",
                    "your role may not author or submit a model version"),
    BRANCH_MODEL_AUTHORITY: Refusal(
        "role_not_allowed", "当前角色无权执行此操作（须分行部门总经理）",
        "your role may not do this (the branch department general manager approves and runs "
        "a branch-wide model)"),
}


def transition(events: list[Event], action: Action, *, by: Acting) -> Event | Refusal:
    """The event to append, or why not. The system (``by.user_id`` None) bypasses roles and
    four eyes; its callers are the seed of the first version and the retirement of the
    previous active or challenger inside an authorised activation."""
    system = by.user_id is SYSTEM_ID
    if action is Action.CREATE:
        if events:
            return Refusal("already_created", "版本已存在", "the version already exists")
        if not system and by.role not in MAKERS:
            return _ROLE_REFUSALS[MAKERS]
        return Event(Action.CREATE, None, Stage.DRAFT, by.user_id)
    stage = stage_of(events)
    if stage is None:
        return Refusal("no_such_version", "版本不存在", "no such version")
    rule = TRANSITIONS[action]
    if stage in TERMINAL:
        return Refusal("terminal_stage", f"版本已终结（{stage.value}）",
                       f"the version is {stage.value}")
    if stage not in rule.sources:
        return Refusal("invalid_transition", f"当前阶段（{stage.value}）不能执行{action.value}",
                       f"cannot {action.value} a version that is {stage.value}")
    if not system and stage in rule.system_only:
        return Refusal("replace_active", "生效版本只能通过启用新版本来替换",
                       "the active version is only replaced, by activating another version")
    if not system and (by.role is None or by.role not in rule.roles):
        return _ROLE_REFUSALS[rule.roles]
    if rule.four_eyes and not system and by.user_id in makers_of(events):
        return Refusal("four_eyes", "审批人不能是该版本的起草人或提交人（双人复核）",
                       "the checker must be a different user than the version's author and "
                       "submitter (maker-checker)")
    return Event(action, stage, rule.target, by.user_id)


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

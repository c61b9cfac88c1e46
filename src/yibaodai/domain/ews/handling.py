"""Handling a warning (预警处置): what the client manager found, what the bank does about
it, and how long each level may stay unhandled. Pure: the service and the routes ask here.

Every outcome is a label: counted per rule, the outcomes tell the branch which rules earn
their keep (false alarms) and which find real risk, so it can tune them on its own history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

from yibaodai.errors import FieldError

OutcomeKind = Literal["false_alarm", "explained", "risk_confirmed"]
Action = Literal["watch", "reduce_limit", "freeze", "recover"]
OUTCOMES: dict[str, tuple[str, str]] = {
    "false_alarm": ("误报", "false alarm"), "explained": ("已解释", "explained"),
    "risk_confirmed": ("风险确认", "risk confirmed")}
ACTIONS: dict[str, tuple[str, str]] = {
    "watch": ("持续关注", "watch"), "reduce_limit": ("压降额度", "reduce limit"),
    "freeze": ("冻结额度", "freeze"), "recover": ("提前收回", "recover")}
#: actions head office must hear of (through the outbox) and the case shows
REPORTED_ACTIONS = frozenset({"reduce_limit", "freeze"})
#: working days a warning of each level may stay unhandled before it escalates
DEADLINE_WORKING_DAYS: dict[str, int] = {"red": 1, "orange": 3, "yellow": 5, "blue": 10,
                                         "high": 3, "medium": 5, "low": 10}
#: the rules' levels, most severe first
LEVEL_ORDER = ("red", "orange", "yellow", "blue")


class WorkingDays(Protocol):
    def add_working_days(self, start: datetime, days: int) -> datetime: ...


def handling_errors(outcome_kind: str | None, action: str | None) -> list[FieldError]:
    """Field errors of a handling record: a known outcome; an action from the list, required
    once risk is confirmed; a false alarm or an explained warning asks for no more than
    watching."""
    errors: list[FieldError] = []
    if outcome_kind not in OUTCOMES:
        errors.append(FieldError("outcome_kind", "请选择核查结论：误报、已解释或风险确认",
                                 "choose false_alarm, explained or risk_confirmed"))
    if action is not None and action not in ACTIONS:
        errors.append(FieldError("action", "处置措施应为持续关注、压降额度、冻结额度或提前收回",
                                 "action must be watch, reduce_limit, freeze or recover"))
    elif outcome_kind == "risk_confirmed" and action is None:
        errors.append(FieldError("action", "风险确认须选择处置措施",
                                 "a confirmed risk needs an action"))
    elif outcome_kind in ("false_alarm", "explained") and action not in (None, "watch"):
        errors.append(FieldError("action", "误报或已解释的预警只能持续关注",
                                 "a false alarm or explained warning can only be watched"))
    return errors


def deadline_days_errors(days: Mapping[str, int]) -> list[str]:
    """What is wrong with a configured table of handling deadlines (empty when it is fine):
    every level of the rules needs a whole number of working days, 1 to 30, and a more severe
    level may not wait longer than a milder one."""
    errors = [f"{level}: missing" for level in LEVEL_ORDER if level not in days]
    errors += [f"{level}: {n} (1-30 working days)" for level, n in days.items()
               if not (isinstance(n, int) and 1 <= n <= 30)]
    if not errors:
        ordered = [days[level] for level in LEVEL_ORDER]
        if ordered != sorted(ordered):
            errors.append("a more severe level may not wait longer than a milder one")
    return errors



def deadline(level: str, raised_at: datetime, calendar: WorkingDays,
             days: Mapping[str, int] = DEADLINE_WORKING_DAYS) -> datetime:
    return calendar.add_working_days(raised_at, days.get(level, 3))


def escalation_due(level: str, raised_at: datetime, now: datetime, calendar: WorkingDays,
                   *, escalated: str | None,
                   days_by_level: Mapping[str, int] = DEADLINE_WORKING_DAYS) -> str | None:
    """Where an unhandled warning should be now: past its deadline the sub-branch department
    manager ("department"), past twice the deadline the branch ("branch"); None when it is
    already there or not yet late. ``days_by_level``: the configured deadlines."""
    days = days_by_level.get(level, 3)
    if calendar.add_working_days(raised_at, 2 * days) < now:
        target = "branch"
    elif calendar.add_working_days(raised_at, days) < now:
        target = "department"
    else:
        return None
    order = {None: 0, "department": 1, "branch": 2}
    return target if order[target] > order.get(escalated, 0) else None


def level_went_up(before: str, after: str) -> bool:
    """True when ``after`` is a more severe level of the rules than ``before``."""
    rank = {level: n for n, level in enumerate(reversed(LEVEL_ORDER))}
    return rank.get(after, -1) > rank.get(before, -1) >= 0


__all__ = ["ACTIONS", "DEADLINE_WORKING_DAYS", "LEVEL_ORDER", "OUTCOMES", "REPORTED_ACTIONS",
           "Action", "OutcomeKind", "deadline", "deadline_days_errors", "escalation_due",
           "handling_errors", "level_went_up"]

"""Outreach to a prospect as one transition table, in the style of ``domain.case``.

Staff record outcomes (a call not answered, not interested, interested, a visit scheduled, a
visit made, the institution says it has authorized the bank in the bureau's system); the
gateway records the authorization when it really arrives. The log of outcomes is append-only
and the current state is the state after its last entry: nothing else stores it.

A call that does not get through changes nothing once someone has answered before: the
prospect stays interested (or visit-scheduled) and the attempt is logged with its next date.
Authorization is terminal: the institution is then a case of the admission flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final


class OutreachState(StrEnum):
    LISTED = "listed"                    # 未联系
    NOT_REACHED = "not_reached"          # 未接通
    NOT_INTERESTED = "not_interested"    # 无意向
    INTERESTED = "interested"            # 有意向
    VISIT_SCHEDULED = "visit_scheduled"  # 已约见
    VISITED = "visited"                  # 已走访
    AUTHORIZED = "authorized"            # 已在医保系统授权


class Outcome(StrEnum):
    NOT_REACHED = "not_reached"
    NOT_INTERESTED = "not_interested"
    INTERESTED = "interested"
    VISIT_SCHEDULED = "visit_scheduled"
    VISITED = "visited"
    AUTHORIZED = "authorized"


STATE_NAMES: Final[dict[OutreachState, tuple[str, str]]] = {
    OutreachState.LISTED: ("未联系", "not contacted yet"),
    OutreachState.NOT_REACHED: ("未接通", "not reached"),
    OutreachState.NOT_INTERESTED: ("无意向", "not interested"),
    OutreachState.INTERESTED: ("有意向", "interested"),
    OutreachState.VISIT_SCHEDULED: ("已约见", "visit scheduled"),
    OutreachState.VISITED: ("已走访", "visited"),
    OutreachState.AUTHORIZED: ("已授权", "authorized in the bureau's system"),
}

TERMINAL: Final = frozenset({OutreachState.AUTHORIZED})
#: Outcomes that mean someone at the institution was actually spoken to.
REACHED: Final = frozenset(Outcome) - {Outcome.NOT_REACHED}
#: Outcomes that need the date of the next step (the visit's date, the call-back date).
NEEDS_NEXT_DATE: Final = frozenset({Outcome.VISIT_SCHEDULED})
#: States that still belong on a call list.
CALLABLE: Final = frozenset({OutreachState.LISTED, OutreachState.NOT_REACHED,
                             OutreachState.INTERESTED, OutreachState.VISIT_SCHEDULED,
                             OutreachState.VISITED})

_S, _O = OutreachState, Outcome
_OPEN = frozenset(OutreachState) - TERMINAL

#: (state, outcome) -> next state. A pair missing here is a move the bank does not allow.
TRANSITIONS: Final[dict[tuple[OutreachState, Outcome], OutreachState]] = {
    **{(s, _O.NOT_REACHED): s for s in (_S.NOT_INTERESTED, _S.INTERESTED, _S.VISIT_SCHEDULED,
                                        _S.VISITED)},
    (_S.LISTED, _O.NOT_REACHED): _S.NOT_REACHED,
    (_S.NOT_REACHED, _O.NOT_REACHED): _S.NOT_REACHED,
    **{(s, _O.NOT_INTERESTED): _S.NOT_INTERESTED for s in _OPEN},
    **{(s, _O.INTERESTED): _S.INTERESTED for s in (_S.LISTED, _S.NOT_REACHED,
                                                   _S.NOT_INTERESTED, _S.INTERESTED)},
    **{(s, _O.VISIT_SCHEDULED): _S.VISIT_SCHEDULED for s in (
        _S.LISTED, _S.NOT_REACHED, _S.NOT_INTERESTED, _S.INTERESTED, _S.VISIT_SCHEDULED)},
    **{(s, _O.VISITED): _S.VISITED for s in (_S.INTERESTED, _S.VISIT_SCHEDULED, _S.VISITED)},
    **{(s, _O.AUTHORIZED): _S.AUTHORIZED for s in _OPEN},
}


@dataclass(frozen=True)
class Refusal:
    """An outcome the table does not allow: an expected answer, not a crash."""

    code: str
    message_zh: str
    message_en: str


def transition(state: OutreachState, outcome: Outcome, *, next_action_on: date | None,
               today: date) -> OutreachState | Refusal:
    """The state after recording ``outcome`` in ``state``, or why it cannot be recorded."""
    if state in TERMINAL:
        return Refusal("terminal_state", "该机构已授权，无需继续营销",
                       "the institution has already authorized; outreach is over")
    target = TRANSITIONS.get((state, outcome))
    if target is None:
        zh, en = STATE_NAMES[state]
        what = STATE_NAMES[OutreachState(outcome.value)][0]
        return Refusal("invalid_transition", f"当前状态（{zh}）不能记录“{what}”",
                       f"cannot record {outcome.value} when {en}")
    if outcome in NEEDS_NEXT_DATE and next_action_on is None:
        return Refusal("next_action_required", "约见须填写约见日期",
                       "a scheduled visit needs its date (next action date)")
    if next_action_on is not None and next_action_on < today:
        return Refusal("next_action_in_past", "下次跟进日期不能早于今天",
                       "the next action date cannot be in the past")
    return target


def current_state(outcomes: Iterable[Outcome]) -> OutreachState:
    """Replay a prospect's logged outcomes from the start: the state after the last one (each
    logged outcome was allowed when it was recorded)."""
    state = OutreachState.LISTED
    for outcome in outcomes:
        state = TRANSITIONS.get((state, outcome), state)
    return state

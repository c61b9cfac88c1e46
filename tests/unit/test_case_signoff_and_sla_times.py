"""Who may verify, confirm and reassign a case (docs/cases.md, DESIGN.md: the holder verifies;
four eyes on the sign-off, the branch only when the sub-branch cannot; a department manager
hands over inside the team, a branch manager anywhere, before verification only), and the
SLA's times of day: a deadline written as 24:00, the 13:00 reminder, the branch escalation a
working day after the deadline, the penalty's calendar days. Also the warning evaluation's
level floor and the change-point score of one series."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from yibaodai.clock import SHANGHAI
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.case import (
    CaseState,
    Refusal,
    four_eyes_refusal,
    reassignment_refusal,
    verifier_refusal,
)
from yibaodai.domain.ews.evaluation import fired_codes
from yibaodai.domain.ews.metrics import score
from yibaodai.domain.ews.rules import LEVEL_RANK, Signal
from yibaodai.domain.roles import Role
from yibaodai.domain.sla import (
    SlaBreach,
    SlaPolicy,
    as_midnight,
    branch_escalation_at,
    penalty_end,
    reminder_at,
)

CAL = WorkingDayCalendar()


def test_only_the_holder_verifies() -> None:
    assert verifier_refusal(holder_id=5, actor_id=5) is None
    assert verifier_refusal(holder_id=5, actor_id=6) == Refusal(
        "not_holder", "只有案件当前的客户经理可以核实",
        "only the case's current client manager may verify it")
    refused = verifier_refusal(holder_id=None, actor_id=6)
    assert refused is not None and refused.code == "not_holder"


FOUR_EYES = Refusal("four_eyes", "认领人、核实人与确认人不能为同一人",
                    "whoever claimed or verified the case may not also confirm it")
SUB_FIRST = Refusal("sub_branch_can_confirm", "支行仍有可确认的部门经理，应由支行确认",
                    "the sub-branch has a manager who may confirm; it confirms, not the branch")


@pytest.mark.parametrize(("actor", "role", "claimer", "verifier", "managers", "refusal"), [
    (1, Role.SUB_BRANCH_MANAGER, 2, 3, {1}, None),
    (2, Role.SUB_BRANCH_MANAGER, 2, 3, {2}, FOUR_EYES),          # claimed it himself
    (3, Role.SUB_BRANCH_MANAGER, 2, 3, {3}, FOUR_EYES),          # verified it
    (9, Role.BRANCH_MANAGER, 2, 3, {1}, SUB_FIRST),              # the sub-branch can confirm
    (9, Role.BRANCH_MANAGER, 2, 3, {2}, None),                   # its only manager claimed
    (9, Role.BRANCH_MANAGER, 2, 3, {2, 3}, None),
    (9, Role.BRANCH_MANAGER, 2, 3, set(), None),
    (9, Role.BRANCH_MANAGER, 9, 3, set(), FOUR_EYES),
    (9, Role.BRANCH_MANAGER, None, None, {4}, SUB_FIRST),
    (4, Role.SUB_BRANCH_MANAGER, None, None, {4}, None),
])
def test_four_eyes_on_the_sign_off(actor: int, role: Role, claimer: int | None,
                                   verifier: int | None, managers: set[int],
                                   refusal: Refusal | None) -> None:
    assert four_eyes_refusal(actor_id=actor, role=role, claimer_id=claimer,
                             verifier_id=verifier,
                             sub_branch_confirmers=frozenset(managers)) == refusal


def reassign(state: CaseState = CaseState.CLAIMED, role: Role = Role.SUB_BRANCH_MANAGER,
             actor: str | None = "DL002", target: str = "DL002",
             to_cm: bool = True) -> Refusal | None:
    return reassignment_refusal(state=state, role=role, actor_sub_branch=actor,
                                case_sub_branch="DL002", target_sub_branch=target,
                                to_client_manager=to_cm)


OUTSIDE = Refusal("outside_sub_branch", "支行部门经理只能把案件交给本支行的客户经理",
                  "a sub-branch manager may hand a case only to a client manager of the same "
                  "sub-branch")


def test_reassignment_by_role_and_place() -> None:
    assert reassign() is None
    assert reassign(CaseState.ASSIGNED) is None
    assert reassign(target="DL003") == OUTSIDE
    assert reassign(actor="DL003") == OUTSIDE
    assert reassign(to_cm=False) == OUTSIDE  # to a sub-branch: the branch's call
    assert reassign(role=Role.BRANCH_MANAGER, actor=None, target="DL009", to_cm=False) is None
    assert reassign(role=Role.BRANCH_MANAGER, actor=None, target="DL009") is None
    for role in (Role.CLIENT_MANAGER, Role.AUDITOR, Role.BRANCH_ADMIN):
        assert reassign(role=role) == Refusal("role_not_allowed", "当前角色无权改派案件",
                                              "your role may not reassign cases")


@pytest.mark.parametrize("state", [s for s in CaseState
                                   if s not in (CaseState.ASSIGNED, CaseState.CLAIMED)])
def test_no_reassignment_once_verified(state: CaseState) -> None:
    refused = reassign(state, role=Role.BRANCH_MANAGER)
    assert refused is not None and refused.code == "invalid_transition"
    assert state.value in refused.message_en and "不能改派" in refused.message_zh
    assert refused.message_en == f"a case in state {state.value} cannot be reassigned"


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, s, us, tzinfo=SHANGHAI)


def test_a_deadline_is_written_as_24_00_of_its_day() -> None:
    end = datetime.combine(date(2026, 12, 1), time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    assert as_midnight(end) == sh(2026, 12, 2)
    assert as_midnight(end).isoformat() == "2026-12-02T00:00:00+08:00"
    # the same instant given in UTC (15:59 on 1 December) is still Shanghai's 1 December
    assert as_midnight(end.astimezone(UTC)) == sh(2026, 12, 2)
    assert as_midnight(datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) == sh(2026, 12, 3)
    assert as_midnight(sh(2026, 12, 31, 12, 30, 15, 7)) == sh(2027, 1, 1)


def test_the_reminder_is_at_13_00_on_the_due_day() -> None:
    end = datetime.combine(date(2026, 12, 1), time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    assert reminder_at(end) == sh(2026, 12, 1, 13)
    assert reminder_at(sh(2026, 12, 1, 8, 15, 30, 9)) == sh(2026, 12, 1, 13)
    assert reminder_at(end.astimezone(UTC)) == sh(2026, 12, 1, 13)  # Shanghai's due day


def test_the_branch_hears_of_a_breach_at_the_end_of_the_next_working_day() -> None:
    friday = datetime.combine(date(2026, 11, 27), time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    breach = SlaBreach(kind="claim", deadline=friday, detected_at=friday)
    monday = datetime.combine(date(2026, 11, 30), time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    assert branch_escalation_at(breach, CAL) == monday


def test_the_penalty_lasts_its_calendar_days_from_the_breach() -> None:
    at = sh(2026, 11, 27, 23, 59)
    breach = SlaBreach(kind="verification", deadline=at, detected_at=at)
    assert penalty_end(SlaPolicy(penalty_calendar_days=30), breach) == at + timedelta(days=30)
    assert penalty_end(SlaPolicy(penalty_calendar_days=1), breach) == at + timedelta(days=1)
    with pytest.raises(ValueError, match="penalty_calendar_days must be >= 1"):
        SlaPolicy(penalty_calendar_days=0)
    with pytest.raises(ValueError, match="claim_working_days must be >= 1"):
        SlaPolicy(claim_working_days=0)
    with pytest.raises(ValueError, match="verify_working_days must be >= 1"):
        SlaPolicy(verify_working_days=0)


def _signal(code: str, level: str) -> Signal:
    return Signal(code, "v", level, "2026-09", "", "")  # type: ignore[arg-type]


def test_the_evaluation_counts_signals_at_or_above_its_level_floor() -> None:
    signals = [_signal("W01", "blue"), _signal("W02", "yellow"), _signal("W03", "orange"),
               _signal("W08", "red")]
    assert fired_codes(signals, levels=LEVEL_RANK, floor=2) == {"W02", "W03", "W08"}
    assert fired_codes(signals, levels=LEVEL_RANK, floor=1) == {"W01", "W02", "W03", "W08"}
    assert fired_codes(signals, levels=LEVEL_RANK, floor=4) == {"W08"}
    assert fired_codes([], levels=LEVEL_RANK, floor=1) == frozenset()


def test_one_series_scores_f1_and_covering_from_a_list_or_named_annotators() -> None:
    # annotators {0, 50} and {0, 52}; prediction {0, 50}
    by_name = score({"a": [50], "b": [52]}, [50], 100)
    assert by_name == score([[50], [52]], [50], 100)
    f1, cover = by_name
    assert f1 == 1.0
    assert cover == pytest.approx((1.0 + (52 * 50 / 52 + 48 * 48 / 50) / 100) / 2)
    f1, _ = score([[50]], [], 100)
    assert f1 == pytest.approx(2 / 3)

"""W03's credit-grade downgrades and staff penalty points, and W09 on external sources'
facts: levels as documented (docs/ews.md), upgrades no warning, replayable."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.ews.history import BorrowerHistory, BureauEvent
from yibaodai.domain.ews.rules import RULES, grade_move, replay, run_rule

AS_OF = date(2026, 11, 1)
WATCHED = date(2026, 1, 1)


def _history(*events: BureauEvent, grade: str = "A",
             external: list[dict[str, str]] | None = None) -> BorrowerHistory:
    return BorrowerHistory(months={}, last_settlement=AS_OF - timedelta(days=1),
                           events=events, credit_grade=grade, watched_since=WATCHED,
                           designation_end=date(2028, 12, 31),
                           extra={"external": external} if external else {})


def _w03(h: BorrowerHistory) -> str | None:
    signal = run_rule(RULES["W03"], h, AS_OF)
    return None if signal is None else signal.level


@given(st.sampled_from("ABCD"), st.sampled_from("ABCD"), st.text(max_size=20))
def test_a_grade_move_is_read_from_the_bureaus_text_whatever_surrounds_it(
        old: str, new: str, noise: str) -> None:
    assert grade_move(f"{noise.replace('→', '')}信用等级调整（{old}→{new}）") == (old, new)


def test_a_credit_grade_downgrade_warns_yellow_and_to_c_or_d_orange_and_an_upgrade_not() -> None:
    day = date(2026, 10, 12)
    assert _w03(_history(BureauEvent("grade_change", day, "A→B"), grade="B")) == "yellow"
    assert _w03(_history(BureauEvent("grade_change", day, "B→C"), grade="C")) == "orange"
    assert _w03(_history(BureauEvent("grade_change", day, "C→A"), grade="A")) is None
    # no grades named: the profile's grade now decides, as before
    assert _w03(_history(BureauEvent("grade_change", day, "调整"), grade="D")) == "orange"


def test_staff_penalty_points_warn_yellow_and_orange_from_the_second() -> None:
    one = BureauEvent("staff_points", date(2026, 9, 3), "医师记3分")
    two = BureauEvent("staff_points", date(2026, 10, 9), "药师记2分")
    assert _w03(_history(one)) == "yellow"
    signal = run_rule(RULES["W03"], _history(one, two), AS_OF)
    assert signal is not None and signal.level == "orange" and signal.period == "2026-10"
    assert "医保医师/药师记分" in signal.text_zh
    again = replay("W03", signal.inputs)
    assert again is not None and (again.level, again.text_zh) == (signal.level, signal.text_zh)
    before = BureauEvent("staff_points", WATCHED - timedelta(days=1), "before the loan")
    assert _w03(_history(before)) is None  # only since the bank began watching


def test_external_facts_warn_by_kind_and_replay() -> None:
    def level(*facts: dict[str, str]) -> str | None:
        signal = run_rule(RULES["W09"], _history(external=list(facts)), AS_OF)
        return None if signal is None else signal.level

    fact = {"source": "court", "kind": "court_enforcement", "fact_date": "2026-10-20",
            "note": "(2026)辽02执123号"}
    assert level() is None
    assert level(fact) == "orange"
    assert level(fact, {**fact, "kind": "court_dishonest"}) == "red"
    assert level({**fact, "kind": "tax_revenue_drop", "source": "tax"}) == "yellow"
    assert level({**fact, "kind": "unknown"}) is None
    assert level({**fact, "fact_date": "2025-12-31"}) is None  # before the loan
    assert level({**fact, "fact_date": "2026-11-02"}) is None  # not yet
    signal = run_rule(RULES["W09"], _history(external=[fact]), AS_OF)
    assert signal is not None and "(2026)辽02执123号" in signal.text_zh
    again = replay("W09", signal.inputs)
    assert again is not None and (again.level, again.period) == ("orange", "2026-10")

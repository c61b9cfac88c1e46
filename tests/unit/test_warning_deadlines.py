"""Handling deadlines per level are configuration, checked when the settings load; a level
going up is what tells the client manager again."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.ews.handling import LEVEL_ORDER, deadline_days_errors, level_went_up
from yibaodai.errors import ConfigurationError
from yibaodai.settings import Settings


def test_the_deadlines_come_from_the_environment_as_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAODAI_WARNING_DEADLINE_DAYS",
                       json.dumps({"red": 2, "orange": 4, "yellow": 6, "blue": 12}))
    assert Settings().warning_deadline_days["orange"] == 4


@pytest.mark.parametrize("days", [
    {"red": 1, "orange": 3, "yellow": 5},                 # a level missing
    {"red": 0, "orange": 3, "yellow": 5, "blue": 10},     # no time at all
    {"red": 5, "orange": 3, "yellow": 5, "blue": 10},     # red waits longer than orange
    {"red": 1, "orange": 3, "yellow": 5, "blue": 31},     # beyond a month of working days
])
def test_a_wrong_table_stops_the_settings_with_a_bilingual_message(
        days: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(warning_deadline_days=days)
    assert refused.value.code == "warning_deadlines"
    assert "YIBAODAI_WARNING_DEADLINE_DAYS" in str(refused.value)


@given(st.lists(st.integers(1, 30), min_size=4, max_size=4))
def test_a_table_is_accepted_exactly_when_more_severe_levels_wait_no_longer(
        values: list[int]) -> None:
    days = dict(zip(LEVEL_ORDER, values, strict=True))
    assert (deadline_days_errors(days) == []) == (values == sorted(values))


@given(st.sampled_from(LEVEL_ORDER), st.sampled_from(LEVEL_ORDER))
def test_a_level_goes_up_only_towards_red(before: str, after: str) -> None:
    assert level_went_up(before, after) == (LEVEL_ORDER.index(after) < LEVEL_ORDER.index(before))


@pytest.mark.parametrize("level", LEVEL_ORDER)
def test_a_level_the_rules_do_not_know_is_never_a_step_up_nor_a_step_from(level: str) -> None:
    """A warning re-scored to (or from) a level outside the rules' four, e.g. from an older
    rule set, must not page the client manager: only a known level can go up."""
    assert level_went_up(level, "critical") is False
    assert level_went_up("critical", level) is False

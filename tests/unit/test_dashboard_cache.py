"""The dashboard cache's rule for serving a kept answer, and its bound on kept scopes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.reports.dashboard_cache import DashboardCache, Entry

AT = datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
DAY = date(2026, 9, 1)


def entry(value: str = "x", *, until: datetime | None = AT + timedelta(hours=2)) -> Entry[str]:
    return Entry(value, version=(5, 9), today=DAY, computed_at=AT, holds_until=until)


@given(st.integers(-600, 600), st.integers(0, 12), st.integers(0, 12), st.booleans())
def test_an_answer_is_served_only_under_what_it_was_computed_under(
        minutes: int, count: int, last: int, other_day: bool) -> None:
    now = AT + timedelta(minutes=minutes)
    kept = entry()
    expected = ((count, last) == (5, 9) and not other_day
                and AT <= now <= AT + timedelta(hours=2))
    assert kept.serves(version=(count, last), now=now,
                       today=DAY + timedelta(days=int(other_day))) is expected


def test_no_deadline_ahead_holds_for_the_rest_of_the_day() -> None:
    assert entry(until=None).serves(version=(5, 9), now=AT + timedelta(hours=13), today=DAY)


def test_the_least_recently_used_scope_goes_first() -> None:
    cache: DashboardCache[str] = DashboardCache(size=2)
    for key in ("a", "b"):
        cache.put(key, entry(key))
    assert cache.get("a", version=(5, 9), now=AT, today=DAY) == "a"  # "b" is now the oldest
    cache.put("c", entry("c"))
    assert [cache.get(k, version=(5, 9), now=AT, today=DAY) for k in "abc"] == ["a", None, "c"]

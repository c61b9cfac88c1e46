"""Domain events: plain data that survives the trip through the deferred queue unchanged,
one key per content, and a registry that says what happens to every one of them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.domain.events import EVENT_TYPES, Event, SettlementDataStored
from yibaodai.flow.bus import event_from_json, event_key, event_to_json
from yibaodai.flow.handlers import DEFERRED, HANDLERS

aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.sampled_from([SHANGHAI, UTC]))
money = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2,
                    allow_nan=False, allow_infinity=False)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


def _events() -> st.SearchStrategy[Event]:
    def build(kind: type[Event]) -> st.SearchStrategy[Event]:
        overrides: dict[str, st.SearchStrategy[object]] = {"at": aware}
        for f in dataclasses.fields(kind):
            if f.type in ("Decimal",):
                overrides[f.name] = money
            elif f.type in ("dict[str, Any]",):
                overrides[f.name] = st.dictionaries(st.text(max_size=8), json_values,
                                                    max_size=4)
            elif f.type in ("tuple[str, ...]",):
                overrides[f.name] = st.lists(st.text(max_size=8), max_size=3).map(tuple)
        return st.builds(kind, **overrides)

    return st.one_of([build(kind) for kind in EVENT_TYPES.values()])


@given(_events())
def test_every_event_reads_back_equal_from_its_stored_form(event: Event) -> None:
    back = event_from_json(type(event).__name__, event_to_json(event))
    assert back == event and type(back) is type(event)
    assert back.at == event.at and back.at.utcoffset() == event.at.utcoffset()


@given(_events())
def test_an_events_key_depends_on_its_content_only(event: Event) -> None:
    copy = event_from_json(type(event).__name__, event_to_json(event))
    assert event_key(copy) == event_key(event)
    later = dataclasses.replace(event, at=event.at + timedelta(seconds=1))
    assert event_key(later) != event_key(event)


def test_events_of_different_messages_have_different_keys() -> None:
    at = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
    one = SettlementDataStored(at=at, fixmedins_code="P21020200001", msgid="M1",
                               first_date=at.date(), last_date=at.date(), rows=3)
    assert event_key(one) != event_key(dataclasses.replace(one, msgid="M2"))


def test_the_registry_says_what_happens_to_every_event() -> None:
    assert set(HANDLERS) == set(EVENT_TYPES.values())
    assert set(DEFERRED) <= set(EVENT_TYPES.values())
    assert all(callable(h) for hs in [*HANDLERS.values(), *DEFERRED.values()] for h in hs)

"""Coalesced deferred handlers (``MessageBus(coalesce=...)``, ``worker.deferred``): rows of one
handler queued for the same institution at the same moment are one run; other institutions,
other moments and rows queued after the run are run on their own; a failed run leaves the rows
it would have covered pending."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from yibaodai.clock import SHANGHAI
from yibaodai.db.models import FlowEventRow
from yibaodai.db.session import Database
from yibaodai.domain.events import BureauEventRecorded, Event, SettlementDataStored
from yibaodai.flow.bus import MessageBus
from yibaodai.flow.handlers import COALESCED, DEFERRED
from yibaodai.monitoring.handlers import watch_new_data
from yibaodai.worker import deferred

AT = datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
X, Y = "P21020200001", "P21020200002"


def _stored(code: str, n: int, at: datetime = AT) -> SettlementDataStored:
    return SettlementDataStored(at=at, fixmedins_code=code, msgid=f"M{code}{n}",
                                first_date=date(2024, 9, 1), last_date=date(2026, 8, 31),
                                rows=1000)


def _institution(payload: Mapping[str, Any]) -> Hashable:
    return str(payload["fixmedins_code"])


def _bus(calls: list[tuple[str, datetime]], *, fail: bool = False) -> MessageBus:
    def watch(session: Any, event: SettlementDataStored | BureauEventRecorded) -> None:
        calls.append((event.fixmedins_code, event.at))
        if fail:
            raise ValueError("rules unavailable")

    return MessageBus(handlers={}, deferred={SettlementDataStored: [watch],
                                             BureauEventRecorded: [watch]},
                      coalesce={watch: _institution})


def _publish(db: Database, bus: MessageBus, events: list[Event]) -> None:
    with db.unit_of_work() as s:
        bus.publish(s, events)
        s.commit()


def _statuses(db: Database) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(FlowEventRow.status).order_by(FlowEventRow.id)))


def test_one_run_per_institution_and_moment(db: Database) -> None:
    calls: list[tuple[str, datetime]] = []
    bus = _bus(calls)
    later = AT + timedelta(seconds=1)
    _publish(db, bus, [_stored(X, 1), _stored(X, 2), _stored(Y, 1),
                       BureauEventRecorded(at=AT, fixmedins_code=X, evt_type="penalty",
                                           evt_date=date(2026, 8, 30), msgid="MX3"),
                       _stored(X, 4, later)])
    run = deferred.handle_due(db, bus, now=later)
    assert sorted(calls) == [(X, AT), (X, later), (Y, AT)]
    assert (run.handled, run.coalesced, run.failed) == (5, 2, 0)
    assert _statuses(db) == ["done"] * 5
    # data arriving after the run, even at the same moment, is run again
    _publish(db, bus, [_stored(X, 5)])
    assert deferred.handle_due(db, bus, now=later).handled == 1
    assert sorted(calls) == [(X, AT), (X, AT), (X, later), (Y, AT)]


def test_a_failed_run_leaves_the_rows_it_covered_pending(db: Database) -> None:
    calls: list[tuple[str, datetime]] = []
    _publish(db, _bus(calls, fail=True), [_stored(X, 1), _stored(X, 2)])
    run = deferred.handle_due(db, _bus(calls, fail=True), now=AT, limit=1)
    assert (run.handled, run.failed) == (0, 1)
    assert _statuses(db) == ["pending", "pending"]
    run = deferred.handle_due(db, _bus(calls), now=AT + timedelta(hours=1))
    assert (run.handled, run.coalesced) == (2, 1) and _statuses(db) == ["done", "done"]


def test_without_coalescing_every_row_is_its_own_run(db: Database) -> None:
    calls: list[tuple[str, datetime]] = []

    def watch(session: Any, event: SettlementDataStored) -> None:
        calls.append((event.fixmedins_code, event.at))

    bus = MessageBus(handlers={}, deferred={SettlementDataStored: [watch]})
    _publish(db, bus, [_stored(X, 1), _stored(X, 2)])
    assert deferred.handle_due(db, bus, now=AT).coalesced == 0
    assert calls == [(X, AT), (X, AT)]


def test_monitoring_after_new_data_is_coalesced_by_institution() -> None:
    assert list(COALESCED) == [watch_new_data]
    assert all(watch_new_data in DEFERRED[kind] for kind in (SettlementDataStored,
                                                              BureauEventRecorded))
    assert COALESCED[watch_new_data]({"fixmedins_code": X, "msgid": "A"}) == \
        COALESCED[watch_new_data]({"fixmedins_code": X, "msgid": "B"}) != \
        COALESCED[watch_new_data]({"fixmedins_code": Y, "msgid": "A"})

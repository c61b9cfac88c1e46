"""The quarantine, bounded (issue 14: 40 anonymous junk posts wrote 40 rows, 2.6 MB): a rate
per source for refusals of unsigned messages, a cap on each stored body, and retention, while
a refused message from an authenticated peer always keeps its record."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.integration.test_gateway_refusals import Bureau, auth_row, daily_row, to_bytes
from yibaodai.db.models import QuarantineRow
from yibaodai.gateway import quarantine, retention
from yibaodai.protocol.sm3 import sm3_hex


@pytest.fixture
def bureau(installation: Any, bank_server: Any) -> Bureau:
    """The bureau, with CODE authorized (as in ``test_gateway_refusals``)."""
    b = Bureau.for_installation(installation, bank_server.url)
    assert b.send("8101", [auth_row()]).infcode == 0
    return b


def _stored(b: Bureau) -> tuple[int, int]:
    """(rows, characters of body and reason) in the quarantine."""
    with b.db.unit_of_work() as s:
        rows = s.scalar(select(func.count()).select_from(QuarantineRow)) or 0
        size = s.scalar(select(func.coalesce(func.sum(
            func.length(QuarantineRow.body) + func.length(QuarantineRow.reason)), 0))) or 0
    return int(rows), int(size)


def test_forty_five_anonymous_junk_posts_write_a_bounded_amount(bureau: Bureau) -> None:
    rows_before, size_before = _stored(bureau)
    junk = [os.urandom(32 * 1024).hex().encode() for _ in range(45)]  # 64 KiB each
    for body in junk:
        r = httpx.post(bureau.url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["infcode"] == 1002
    rows, size = _stored(bureau)
    sent = sum(map(len, junk))
    print(f"{len(junk)} junk posts, {sent} bytes sent: {rows - rows_before} quarantine rows, "
          f"{size - size_before} characters stored")
    assert rows - rows_before <= 20  # the per-source rate (settings.quarantine_rate)
    assert size - size_before <= 20 * (2048 + 2000)  # capped bodies and reasons
    assert size - size_before < sent / 25, (size, sent)
    with bureau.db.unit_of_work() as s:
        kept = s.scalars(select(QuarantineRow).where(
            QuarantineRow.id > rows_before).order_by(QuarantineRow.id)).all()
        assert kept and all(not q.authenticated and q.source == "127.0.0.1" for q in kept)
        # what was cut can still be matched with the sender's copy
        assert kept[0].body_bytes == len(junk[0]) and kept[0].body_sm3 == sm3_hex(junk[0])


def test_a_peers_refusals_keep_their_record_past_the_rate_and_retention(
        bureau: Bureau) -> None:
    msgids = []
    for day in range(25):  # signed, refused (a settlement day in the future): over the rate
        env = bureau.seal("8301", [daily_row(setl_date=(
            bureau.today() + timedelta(days=day + 1)).isoformat())])
        msgids.append(env["msgid"])
        assert bureau.post(env).infcode == 1402
    junk = httpx.post(bureau.url, content=b"junk", headers={"content-type": "application/json"})
    assert junk.json()["infcode"] == 1002
    with bureau.db.unit_of_work() as s:
        peer = s.scalars(select(QuarantineRow).where(QuarantineRow.msgid.in_(msgids))).all()
        assert sorted(q.msgid for q in peer) == sorted(msgids)  # every one recorded
        assert all(q.authenticated and q.body_sm3 and q.body_bytes for q in peer)
        assert any(q.body == "" for q in peer) and any(q.body for q in peer)
    bureau.clock.advance(timedelta(days=quarantine.ANONYMOUS_DAYS + 1))
    retention.apply(bureau.db, now=bureau.clock.now())
    with bureau.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(QuarantineRow).where(
            QuarantineRow.authenticated.is_(False))) == 0
        assert s.scalar(select(func.count()).select_from(QuarantineRow).where(
            QuarantineRow.msgid.in_(msgids), QuarantineRow.body != "")) > 0
    bureau.clock.advance(timedelta(days=quarantine.BODY_DAYS))
    retention.apply(bureau.db, now=bureau.clock.now())
    with bureau.db.unit_of_work() as s:
        peer = s.scalars(select(QuarantineRow).where(QuarantineRow.msgid.in_(msgids))).all()
        assert len(peer) == len(msgids) and all(q.body == "" and q.body_sm3 for q in peer)


def test_junk_bodies_are_never_stored_whole(bureau: Bureau) -> None:
    body = to_bytes({"infno": "8301", "x": "y" * 100_000})
    r = httpx.post(bureau.url, content=body, headers={"content-type": "application/json"})
    assert r.json()["infcode"] == 1003
    with bureau.db.unit_of_work() as s:
        last = s.scalars(select(QuarantineRow).order_by(QuarantineRow.id.desc())).first()
        assert last is not None and len(last.body) <= 2048 and last.body_bytes == len(body)


def test_a_signed_message_replayed_after_its_window_is_not_recorded_without_bound(
        bureau: Bureau) -> None:
    body = to_bytes(bureau.seal("8301", [daily_row()]))
    bureau.clock.advance(timedelta(minutes=10))  # the window has passed: stale from now on
    before, _ = _stored(bureau)
    for _ in range(30):
        r = httpx.post(bureau.url, content=body, headers={"content-type": "application/json"})
        assert r.json()["infcode"] == 1201
    rows, _ = _stored(bureau)
    assert 1 <= rows - before <= 20  # the rate's worth, then on record already


def test_the_anonymous_rate_window_moves_with_the_gateways_clock(bureau: Bureau) -> None:
    """The per-source window runs on the injected clock, not the wall clock: once the rate's
    worth is recorded, further junk is not stored until the clock moves past the window."""
    def junk() -> None:
        r = httpx.post(bureau.url, content=os.urandom(64).hex().encode(),
                       headers={"content-type": "application/json"})
        assert r.json()["infcode"] == 1002

    before, _ = _stored(bureau)
    for _ in range(25):
        junk()
    full, _ = _stored(bureau)
    assert full - before == 20  # settings.quarantine_rate: 20/minute
    bureau.clock.advance(timedelta(seconds=30))
    junk()
    assert _stored(bureau)[0] == full  # half a minute later: still within the window
    bureau.clock.advance(timedelta(seconds=31))
    for _ in range(3):
        junk()
    assert _stored(bureau)[0] == full + 3  # a minute on the clock after the first: room again

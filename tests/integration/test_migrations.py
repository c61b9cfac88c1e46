"""Alembic: one head, and the migrated schema matches the models on every backend."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from yibaodai.audit.log import GENESIS
from yibaodai.clock import SHANGHAI
from yibaodai.db.append_only import lifted
from yibaodai.db.migrate import alembic_config, heads, upgrade
from yibaodai.db.models import Base, RawMessageRow
from yibaodai.db.session import Database
from yibaodai.gateway.archive import link_hash, verify_archive
from yibaodai.gateway.crypto import sm3_hex


def test_there_is_exactly_one_migration_head(db_url: str) -> None:
    assert len(heads(db_url)) == 1


def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_archive_bodies_survive_the_change_to_bytes(db_url: str) -> None:
    """0004 turns the archive's text bodies into their UTF-8 bytes; the SM3 chain still
    verifies afterwards, and a tampered body is still named (both backends)."""
    command.downgrade(alembic_config(db_url), "0003")
    received = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
    bodies = ['{"infno":"8301","fixmedins_name":"大连市中山区某诊所"}', '{"infno":"8101"}']
    engine = create_engine(db_url)
    prev = GENESIS
    with engine.begin() as conn:
        for n, body in enumerate(bodies, start=1):
            body_sm3 = sm3_hex(body.encode("utf-8"))
            record = link_hash(prev, f"M{n}", received, body_sm3)
            conn.execute(text(
                "INSERT INTO raw_messages (id, msgid, infno, key_id, fixmedins_code, "
                "received_at, body, body_sm3, prev_hash, record_hash) VALUES (:id, :msgid, "
                "'8301', 'k', 'H21020200001', :at, :body, :sm3, :prev, :rec)"),
                {"id": n, "msgid": f"M{n}", "at": received, "body": body, "sm3": body_sm3,
                 "prev": prev, "rec": record})
            prev = record
    engine.dispose()
    upgrade(db_url)
    db = Database(db_url)
    try:
        with db.unit_of_work() as s:
            stored = list(s.scalars(select(RawMessageRow.body).order_by(RawMessageRow.id)))
            assert stored == [b.encode("utf-8") for b in bodies]
            assert verify_archive(s) is None
            with lifted(s):
                s.execute(text("UPDATE raw_messages SET body = :b WHERE id = 2"),
                          {"b": b'{"infno":"8102"}'})
            assert verify_archive(s) == 2
    finally:
        db.dispose()


def test_settlement_facts_keep_their_rows_both_ways(db_url: str) -> None:
    """0004 replaces the facts' surrogate id by the natural key; rows survive the upgrade and
    the downgrade, and the natural key stays unique either way."""
    engine = create_engine(db_url)
    insert = text(
        "INSERT INTO settlement_facts (fixmedins_code, setl_date, insutype, clr_type, setl_cnt, "
        "refd_setl_cnt, medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
        "psn_cash_pay_fen, source_msgid) VALUES ('H21020200001', :d, '310', '11', 3, 0, 300, "
        "200, 200, 50, 50, 'M1')")
    count = text("SELECT count(*) FROM settlement_facts")
    with engine.begin() as conn:
        for day in ("2026-08-01", "2026-08-02"):
            conn.execute(insert, {"d": day})
    command.downgrade(alembic_config(db_url), "0003")
    with engine.begin() as conn:
        assert conn.execute(count).scalar() == 2
        ids = sorted(conn.execute(text("SELECT id FROM settlement_facts")).scalars())
        assert len(set(ids)) == 2 and None not in ids
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"d": "2026-08-01"})
    upgrade(db_url)
    with engine.begin() as conn:
        assert conn.execute(count).scalar() == 2
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"d": "2026-08-02"})
    engine.dispose()

"""Alembic: one head, and the migrated schema matches the models on every backend."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, create_engine, insert, select, table, text
from sqlalchemy.exc import IntegrityError

from tests.support.operator import as_dba
from yibaodai.audit.keys import load_chain_keys, signing_keys
from yibaodai.audit.log import GENESIS
from yibaodai.audit.log import record as record_audit
from yibaodai.cases.events import append_case_event
from yibaodai.clock import SHANGHAI
from yibaodai.db.append_only import lifted
from yibaodai.db.migrate import alembic_config, heads, upgrade
from yibaodai.db.models import (
    AuditRow,
    Base,
    CaseEventRow,
    CaseRow,
    DecisionRow,
    RawMessageRow,
    SubBranchRow,
)
from yibaodai.db.session import Database
from yibaodai.gateway.archive import archive_message, link_hash, verify_archive
from yibaodai.ops.integrity import verify_chains
from yibaodai.protocol.sm3 import sm3_hex
from yibaodai.settings import Settings


def test_there_is_exactly_one_migration_head(db_url: str) -> None:
    assert len(heads(db_url)) == 1


def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_archive_bodies_survive_the_change_to_bytes(db_url: str, settings: Settings) -> None:
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
    db = Database(db_url, chain_keys=load_chain_keys(settings))
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


def test_0016_sums_the_facts_already_stored_by_month(db_url: str) -> None:
    """Facts stored before ``settlement_months`` existed are summed into it by the upgrade,
    one row per institution and calendar month, with the month's last settlement day."""
    engine = create_engine(db_url)
    command.downgrade(alembic_config(db_url), "0014")
    add = text(
        "INSERT INTO settlement_facts (fixmedins_code, setl_date, insutype, clr_type, setl_cnt, "
        "refd_setl_cnt, medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
        "psn_cash_pay_fen, source_msgid) VALUES (:c, :d, :i, '11', :n, 1, 300, :f, 200, 50, "
        "50, 'M1')")
    facts = [("H21020200001", "2026-07-31", "310", 3, 200), ("H21020200001", "2026-08-01",
             "310", 4, 210), ("H21020200001", "2026-08-20", "390", 5, 220),
             ("H21020200002", "2026-08-05", "310", 6, 230)]
    with engine.begin() as conn:
        for c, d, i, n, f in facts:
            conn.execute(add, {"c": c, "d": d, "i": i, "n": n, "f": f})
    upgrade(db_url)
    with engine.begin() as conn:
        months = conn.execute(text(
            "SELECT fixmedins_code, month, setl_cnt, refd_setl_cnt, fund_pay_sumamt_fen, "
            "last_setl_date FROM settlement_months ORDER BY fixmedins_code, month")).all()
    engine.dispose()
    assert [(c, m, n, r, f, str(last)) for c, m, n, r, f, last in months] == [
        ("H21020200001", "2026-07", 3, 1, 200, "2026-07-31"),
        ("H21020200001", "2026-08", 9, 2, 430, "2026-08-20"),
        ("H21020200002", "2026-08", 6, 1, 230, "2026-08-05")]


def test_an_upgrade_from_0004_keeps_old_links_verifying_and_keys_the_new_ones(
        db_url: str, settings: Settings) -> None:
    """Rows written under 0004 (unkeyed audit and archive links, case events with no chain at
    all) verify after 0011 as unkeyed links, new rows are keyed, and both are checked: an old
    row edited afterwards is still named (both backends). Ids are left to the database,
    which numbers the rows of a fresh one from 1."""
    command.downgrade(alembic_config(db_url), "0004")
    at = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert(SubBranchRow.__table__).values(
            code="SB01", name_zh="中山支行", name_en="Zhongshan", address="人民路1号",
            phone="0411", latitude=38.9, longitude=121.6, districts=["210202"]))
        # The 0004 schema's own columns (the model has gained some since: defaults of new
        # columns must not be sent to the old table).
        users = table("users", *(column(c) for c in (
            "username", "display_name", "staff_no", "role", "sub_branch_code", "password_hash",
            "active")))
        conn.execute(insert(users).values(
            username="cm1", display_name="王伟", staff_no="S1", role="client_manager",
            sub_branch_code="SB01", password_hash="-", active=True))
        conn.execute(insert(DecisionRow.__table__).values(
            fixmedins_code="H21020200255", decided_at=at, trigger="first",
            result="admitted", credit_limit_fen=Decimal("1.00"), reasons=[], inputs={},
            rule_version="v1", content_hash="0" * 64))
        conn.execute(insert(CaseRow.__table__).values(
            fixmedins_code="H21020200255", decision_id=1, sub_branch_code="SB01",
            state="claimed", credit_limit_fen=Decimal("1.00"), assigned_at=at,
            claim_deadline=at,
            version=1))
        prev_audit = prev_archive = GENESIS
        for n in (1, 2):
            content = {"at": at.isoformat(), "actor": "cm1", "action": "case.claim",
                       "target": "case:1", "details": {"n": n}}
            record = sm3_hex((prev_audit + json.dumps(
                content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))).encode())
            conn.execute(insert(AuditRow.__table__).values(
                at=at, actor="cm1", action="case.claim", target="case:1",
                details={"n": n}, prev_hash=prev_audit, record_hash=record))
            prev_audit = record
            body = f'{{"n":{n}}}'.encode()
            link = link_hash(prev_archive, f"M{n}", at, sm3_hex(body))
            conn.execute(insert(RawMessageRow.__table__).values(
                msgid=f"M{n}", infno="8301", key_id="k", fixmedins_code="H21020200255",
                received_at=at, body=body, body_sm3=sm3_hex(body), prev_hash=prev_archive,
                record_hash=link))
            prev_archive = link
            conn.execute(insert(CaseEventRow.__table__).values(
                case_id=1, at=at, event="claim", from_state="assigned",
                to_state="claimed", actor_id=1, details={"n": n}))
    engine.dispose()
    upgrade(db_url)
    db = Database(db_url, chain_keys=load_chain_keys(settings))
    signing = signing_keys(settings.keys_dir)
    try:
        with db.unit_of_work() as s:
            record_audit(s, at=at, actor="cm1", action="case.verify", target="case:1")
            archive_message(s, msgid="M3", infno="8301", key_id="k",
                            fixmedins_code="H21020200255", body=b"{}", received_at=at)
            append_case_event(s, case_id=1, at=at, event="verify_pass", from_state="claimed",
                              to_state="verified", actor_id=1)
            s.commit()
        reports = verify_chains(db, signing=signing, checkpoint_at=at)
        assert [(v.report.chain, v.report.ok, v.report.walk.records, v.report.walk.legacy,
                 v.written is not None) for v in reports] == [
            ("audit", True, 3, 2, True), ("archive", True, 3, 2, True),
            ("case-events", True, 3, 2, True)]
        as_dba(db, "UPDATE case_events SET to_state = 'reported' WHERE id = 2")
        [report] = [v.report for v in verify_chains(db, signing=signing,
                                                    names=["case-events"])]
        assert report.problem is not None
        assert (report.problem.kind, report.problem.record_id) == ("altered", 2)
    finally:
        db.dispose()

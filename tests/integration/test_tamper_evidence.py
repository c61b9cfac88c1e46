"""Tamper evidence on both backends: the append-only tables refuse UPDATE and DELETE; an edit
made past the triggers (as a DBA could), deleting the newest rows, and rewriting a chain are
named by ``yibaodai verify`` and the per-chain commands; checkpoints are signed, gap-free and
advance only when a chain moved."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.support.chains import EDITS, Context, fill, keyed_with, prepare, relink, table, unkeyed
from tests.support.operator import as_dba, run_cli
from yibaodai.audit.chain import walk
from yibaodai.audit.keys import load_chain_keys, new_chain_key, signing_keys
from yibaodai.clock import SimulatedClock
from yibaodai.db.append_only import APPEND_ONLY_TABLES
from yibaodai.db.models import ChainCheckpointRow
from yibaodai.db.session import Database
from yibaodai.errors import ConfigurationError
from yibaodai.gateway.retention import DELETED_TABLES
from yibaodai.ops.integrity import CHAINS, write_checkpoints
from yibaodai.settings import Settings

CLI = {"audit": ["audit", "verify"], "archive": ["archive", "verify"],
       "case-events": ["case-events", "verify"]}


@dataclass
class Chained:
    """One chain of a fresh installation with five rows in it."""

    name: str
    db: Database
    settings: Settings
    ctx: Context
    ids: list[int]

    @property
    def label(self) -> str:
        return CHAINS[self.name].label_en

    def verify(self, *extra: str) -> tuple[int, str]:
        result = run_cli(self.settings, *CLI[self.name], *extra)
        return result.exit_code, result.output

    def checkpoint(self) -> None:
        result = run_cli(self.settings, "checkpoint")
        assert result.exit_code == 0, result.output


@pytest.fixture(params=list(CHAINS))
def chained(request: pytest.FixtureRequest, db: Database, settings: Settings,
            clock: SimulatedClock) -> Iterator[Chained]:
    with db.unit_of_work() as s:
        ctx = prepare(s, clock.now())
        s.commit()
    yield Chained(request.param, db, settings, ctx, fill(db, request.param, ctx, 5))


def _edit(c: Chained, row_id: int) -> None:
    values = EDITS[c.name](c.ctx)
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    as_dba(c.db, f"UPDATE {table(c.name)} SET {assignments} WHERE id = :row_id",
           row_id=row_id, **values)


def test_an_intact_chain_verifies_with_a_one_line_summary_and_writes_a_checkpoint(
        chained: Chained) -> None:
    code, output = chained.verify()
    assert code == 0, output
    assert output.strip().splitlines() == [
        f"{chained.name} intact: 5 records, head " + output.split("head ")[1][:16]
        + ", no checkpoint"]
    with chained.db.unit_of_work() as s:
        written = [(w.chain, w.last_id, w.records)
                   for w in s.scalars(select(ChainCheckpointRow))]
    assert written == [(chained.name, chained.ids[-1], 5)]
    code, output = chained.verify("--json")
    report = json.loads(output)
    assert code == 0 and report["ok"] is True
    assert report["chains"][0]["checkpoint"]["seq"] == 1
    assert report["chains"][0]["checkpoint_written"] is None  # the head has not moved


def test_a_row_edited_in_sql_is_named(chained: Chained) -> None:
    target = chained.ids[2]
    _edit(chained, target)
    code, output = chained.verify()
    assert code == 1
    assert f"{chained.label} {target} was altered" in output
    code, output = chained.verify("--json")
    problem = json.loads(output)["chains"][0]["problem"]
    assert (code, problem["kind"], problem["record_id"]) == (1, "altered", target)


def test_an_edit_with_the_later_links_recomputed_without_the_key_is_named(
        chained: Chained) -> None:
    target = chained.ids[1]
    _edit(chained, target)
    chain = CHAINS[chained.name]
    relink(chained.db, chain, from_id=target,
           link=keyed_with(chain, secrets.token_bytes(32), "chain-1"))
    code, output = chained.verify()
    assert code == 1
    assert f"{chained.label} {target} was altered" in output


def test_later_rows_rewritten_with_unkeyed_links_are_named_as_downgraded(
        chained: Chained) -> None:
    target = chained.ids[2]
    _edit(chained, target)
    relink(chained.db, CHAINS[chained.name], from_id=target,
           link=unkeyed(CHAINS[chained.name]))
    code, output = chained.verify()
    assert code == 1
    assert f"{chained.label} {target} has an unkeyed link after keyed records" in output


def test_deleting_the_newest_row_is_found_against_the_last_checkpoint(
        chained: Chained) -> None:
    chained.checkpoint()
    newest = chained.ids[-1]
    as_dba(chained.db, f"DELETE FROM {table(chained.name)} WHERE id = :id", id=newest)
    code, output = chained.verify()
    assert code == 1
    assert f"{chained.label} {newest} is missing (checkpoint #1 recorded 5 records" in output


def test_deleting_a_middle_row_names_the_row_that_no_longer_links(chained: Chained) -> None:
    as_dba(chained.db, f"DELETE FROM {table(chained.name)} WHERE id = :id", id=chained.ids[1])
    code, output = chained.verify()
    assert code == 1
    assert f"{chained.label} {chained.ids[2]} does not link to the record before it" in output


@pytest.mark.parametrize("scheme", ["keyed", "unkeyed"])
def test_rewriting_the_whole_chain_is_found_against_the_last_checkpoint(
        chained: Chained, scheme: str) -> None:
    """Someone holding the chain key (or writing unkeyed links from the first row on, which
    the chain alone accepts as rows from before 0011) edits a row and relinks everything:
    only the signed checkpoint can tell, and it does."""
    chained.checkpoint()
    fill(chained.db, chained.name, chained.ctx, 2, first=6)
    chain = CHAINS[chained.name]
    keys = load_chain_keys(chained.settings)
    _edit(chained, chained.ids[3])
    relink(chained.db, chain, from_id=chained.ids[0],
           link=keyed_with(chain, keys.current, keys.current_id) if scheme == "keyed"
           else unkeyed(chain))
    with chained.db.unit_of_work() as s:
        assert walk(s, chain, keys).problem is None  # the chain alone links up
    code, output = chained.verify()
    assert code == 1
    assert (f"{chained.label} {chained.ids[-1]} does not match checkpoint #1 (5 records when "
            f"it was signed, 5 now: records 1–{chained.ids[-1]} were rewritten") in output


def test_a_removed_checkpoint_leaves_a_gap_and_an_altered_one_fails_its_signature(
        chained: Chained) -> None:
    chained.checkpoint()
    fill(chained.db, chained.name, chained.ctx, 1, first=6)
    chained.checkpoint()
    as_dba(chained.db, "UPDATE chain_checkpoints SET records = 4 WHERE seq = 2")
    code, output = chained.verify("--no-checkpoint")
    assert code == 1 and "checkpoint #2 has an invalid signature" in output
    as_dba(chained.db, "DELETE FROM chain_checkpoints WHERE seq = 1")
    code, output = chained.verify("--no-checkpoint")
    assert code == 1 and "checkpoint #1 is missing (the sequence jumps to #2)" in output


def test_an_exported_checkpoint_catches_what_deleting_the_checkpoints_hides(
        chained: Chained, tmp_path: Path) -> None:
    exported = run_cli(chained.settings, "checkpoint", "--json")
    assert exported.exit_code == 0, exported.output
    anchor = tmp_path / "kept-off-the-machine.json"
    anchor.write_text(exported.stdout, encoding="utf-8")
    newest = chained.ids[-1]
    as_dba(chained.db, f"DELETE FROM {table(chained.name)} WHERE id = :id", id=newest)
    as_dba(chained.db, "DELETE FROM chain_checkpoints")
    code, output = chained.verify("--no-checkpoint")
    assert code == 0, output  # the database alone can no longer tell (docs/security.md)
    code, output = chained.verify("--no-checkpoint", "--anchor", str(anchor))
    assert code == 1
    assert f"{chained.label} {newest} is missing (exported checkpoint #1" in output


@pytest.mark.parametrize("args, message", [
    (["verify", "--chain", "ledger"], "unknown chain(s) ['ledger']"),
    (["verify", "--anchor", "/nonexistent/anchor.json"], "cannot read the exported checkpoints"),
])
def test_a_bad_option_is_refused_with_a_clear_message(settings: Settings, args: list[str],
                                                      message: str) -> None:
    result = run_cli(settings, *args)
    assert result.exit_code == 1 and message in result.output
    assert isinstance(result.exception, SystemExit)  # an answer, not a traceback


def test_a_case_event_whose_actor_was_changed_is_named(db: Database, settings: Settings,
                                                       clock: SimulatedClock) -> None:
    with db.unit_of_work() as s:
        ctx = prepare(s, clock.now())
        s.commit()
    ids = fill(db, "case-events", ctx, 3)
    as_dba(db, "UPDATE case_events SET actor_id = :v WHERE id = :id", v=ctx.user_ids[1],
           id=ids[1])
    result = run_cli(settings, "verify", "--chain", "case-events")
    assert result.exit_code == 1
    assert f"case event {ids[1]} was altered" in result.output


@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
@pytest.mark.parametrize("name", APPEND_ONLY_TABLES)
def test_every_append_only_table_refuses_update_and_delete(
        db: Database, settings: Settings, clock: SimulatedClock, name: str, verb: str) -> None:
    with db.unit_of_work() as s:
        ctx = prepare(s, clock.now())
        s.commit()
    for chain in CHAINS:
        fill(db, chain, ctx, 1)
    assert not write_checkpoints(db, signing=signing_keys(settings.keys_dir),
                                 now=clock.now()).problems
    key = "seq" if name == "chain_checkpoints" else "id"
    sql = (f"UPDATE {name} SET {key} = {key} WHERE {key} = 1" if verb == "UPDATE"
           else f"DELETE FROM {name} WHERE {key} = 1")
    with db.unit_of_work() as s, pytest.raises(IntegrityError, match="append-only"):
        s.execute(text(sql))
    with db.unit_of_work() as s:
        assert s.scalar(text(f"SELECT count(*) FROM {name}")) >= 1


def test_truncate_is_refused_on_postgresql(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE trigger covers DELETE without WHERE)")
    for name in APPEND_ONLY_TABLES:
        with db.unit_of_work() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(f"TRUNCATE {name} CASCADE"))


def test_the_checkpoint_job_signs_only_moved_heads_and_skips_a_broken_chain(
        db: Database, settings: Settings, clock: SimulatedClock) -> None:
    signing = signing_keys(settings.keys_dir)
    with db.unit_of_work() as s:
        ctx = prepare(s, clock.now())
        s.commit()
    for chain in CHAINS:
        fill(db, chain, ctx, 2)
    first = write_checkpoints(db, signing=signing, now=clock.now())
    assert [(r.seq, r.chain, r.records) for r in first.written] == [
        (1, "audit", 2), (2, "archive", 2), (3, "case-events", 2)]
    assert write_checkpoints(db, signing=signing, now=clock.now()).written == []
    fill(db, "audit", ctx, 1, first=3)
    ids = fill(db, "archive", ctx, 1, first=3)
    as_dba(db, "UPDATE raw_messages SET fixmedins_code = 'H21020299999' WHERE id = :id",
           id=ids[0])
    run = write_checkpoints(db, signing=signing, now=clock.now())
    assert [(r.seq, r.chain, r.records) for r in run.written] == [(4, "audit", 3)]
    assert list(run.problems) == ["archive"]
    assert f"archive record {ids[0]} was altered" in run.problems["archive"].message_en


def test_rows_linked_before_a_key_rotation_still_verify_and_a_lost_key_is_named(
        db: Database, settings: Settings, clock: SimulatedClock) -> None:
    with db.unit_of_work() as s:
        ctx = prepare(s, clock.now())
        s.commit()
    old = fill(db, "audit", ctx, 2)
    result = run_cli(settings, "chain-key", "new")
    assert result.exit_code == 0 and "chain-2 is current" in result.output
    rotated = Database(settings.database_url, chain_keys=load_chain_keys(settings))
    try:
        new = fill(rotated, "audit", ctx, 2, first=3)
        with rotated.unit_of_work() as s:
            assert [s.scalar(text("SELECT link_key_id FROM audit_log WHERE id = :i"), {"i": i})
                    for i in old + new] == ["chain-1", "chain-1", "chain-2", "chain-2"]
    finally:
        rotated.dispose()
    assert run_cli(settings, "audit", "verify").exit_code == 0
    path = settings.chain_keys_path
    payload = json.loads(path.read_text())
    del payload["keys"]["chain-1"]
    path.write_text(json.dumps(payload))
    result = run_cli(settings, "audit", "verify")
    assert result.exit_code == 1
    assert f"audit record {old[0]} is linked with an unknown chain key chain-1" in result.output


def test_outside_demo_mode_the_chain_key_file_must_exist_and_not_be_the_demos(
        tmp_path: Path) -> None:
    production = Settings(var_dir=tmp_path / "var", demo_mode=False,
                          secret_key="a-real-secret")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"chain key file .* is missing"):
        load_chain_keys(production)
    new_chain_key(production.chain_keys_path, demo=True)
    with pytest.raises(ConfigurationError, match="made by the demo"):
        load_chain_keys(production)
    production.chain_keys_path.unlink()
    new_chain_key(production.chain_keys_path)
    keys = load_chain_keys(production)
    assert keys.current_id == "chain-1" and keys.current.hex() not in repr(keys)
    assert production.chain_keys_path.stat().st_mode & 0o777 == 0o600


def test_retention_deletes_institution_data_and_never_an_append_only_table() -> None:
    """Retention runs with the triggers in place (``test_gateway_8302_8303::
    test_retention_after_revocation``); this pins that its list stays clear of them."""
    touched = {model.__tablename__ for model in DELETED_TABLES.values()} | {"institutions"}
    assert touched and touched.isdisjoint(APPEND_ONLY_TABLES)


def test_checkpoints_signed_before_an_sm2_key_rotation_verify_with_the_retired_public_key(
        chained: Chained) -> None:
    chained.checkpoint()
    keys = chained.settings.keys_dir
    (keys / "bank.sm2.public.json").rename(keys / "bank-2026-01.retired.sm2.public.json")
    result = run_cli(chained.settings, "bureau", "keygen", "--directory", str(keys),
                     "--party", "bank", "--key-id", "bank-2027-01")
    assert result.exit_code == 0, result.output
    fill(chained.db, chained.name, chained.ctx, 1, first=6)
    code, output = chained.verify("--json")
    assert code == 0, output
    assert json.loads(output)["chains"][0]["checkpoint_written"] == 2
    with chained.db.unit_of_work() as s:
        signers = list(s.scalars(select(ChainCheckpointRow.key_id)
                                 .order_by(ChainCheckpointRow.seq)))
    assert signers == ["bank-2026-01", "bank-2027-01"]
    (keys / "bank-2026-01.retired.sm2.public.json").unlink()
    code, output = chained.verify("--no-checkpoint")
    assert code == 1 and "checkpoint #1 has an invalid signature" in output


def test_appenders_racing_on_one_chain_link_every_row_onto_the_one_before(
        db: Database, clock: SimulatedClock) -> None:
    """Eight threads append audit rows at once (the append lock and the tail read are one
    round trip on PostgreSQL): every row links onto the row before it, none onto a tail
    another appender had already extended, and the chain walks clean."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from yibaodai.audit.keys import session_chain_keys
    from yibaodai.audit.log import AUDIT, record
    from yibaodai.db.models import AuditRow

    start = Barrier(8)

    def appender(n: int) -> None:
        start.wait()
        for k in range(6):
            with db.unit_of_work() as s:
                record(s, at=clock.now(), actor=f"cm{n}", action="personal_data.view",
                       target=f"case:{n * 100 + k}", details={"fields": ["bankacct"]})
                s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(appender, range(8)))
    with db.unit_of_work() as s:
        rows = s.execute(select(AuditRow.prev_hash, AuditRow.record_hash, AuditRow.target)
                         .order_by(AuditRow.id)).all()
        walked = walk(s, AUDIT, session_chain_keys(s))
    views = [r for r in rows if r.target.startswith("case:")]
    assert len(views) == 48
    assert [r.prev_hash for r in rows[1:]] == [r.record_hash for r in rows[:-1]]
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two rows on one tail
    assert walked.problem is None and walked.records == len(rows)

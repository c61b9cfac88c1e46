"""Backup and restore on SQLite and PostgreSQL, across engines too: a database filled by the
real flow restores row for row into an empty database, verified by the restore itself; a
target holding data is refused unless ``--force``; a changed backup file, or a target with
other chain keys, is refused and changes nothing."""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, Installation
from tests.support.chains import fill, prepare
from tests.support.flow import city, likely_admitted, world
from tests.support.operator import run_cli
from yibaodai.db.session import Database
from yibaodai.ops.backup import tables
from yibaodai.ops.integrity import CHAINS
from yibaodai.settings import Settings
from yibaodai.sim.server import ServerThread


def _backup(installation: Installation, file: Path) -> Path:
    assert run_cli(installation.settings, "checkpoint").exit_code == 0
    result = run_cli(installation.settings, "backup", str(file))
    assert result.exit_code == 0, result.output
    return file


@pytest.fixture
def flowed(installation: Installation, bank_server: ServerThread, tmp_path: Path) -> Path:
    """The real flow (an admitted institution reported and drawn), checkpoints written, and
    its backup taken with ``yibaodai backup``."""
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        w.dispatcher.dispatch_due()
        with installation.bank.db.unit_of_work() as s:
            case_id, sub = s.execute(text("SELECT id, sub_branch_code FROM cases")).one()
        w.confirm(case_id, sub)
        w.dispatcher.dispatch_due()
        assert w.desk.draw_loans(share=1.0) == 1
    return _backup(installation, tmp_path / "yibaodai-backup.zip")


@pytest.fixture
def filled(installation: Installation, tmp_path: Path) -> Path:
    """Staff, a case and a few rows in each chain (quicker than the flow), backed up."""
    with installation.bank.db.unit_of_work() as s:
        ctx = prepare(s, installation.clock.now())
        s.commit()
    for chain in CHAINS:
        fill(installation.bank.db, chain, ctx, 3)
    return _backup(installation, tmp_path / "yibaodai-backup.zip")


@pytest.fixture
def empty_databases(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An empty SQLite file and (with PostgreSQL) an empty PostgreSQL database."""
    urls = {"sqlite": f"sqlite:///{tmp_path / 'restored.db'}"}
    admin = None
    if PG_URL:
        name = f"yb_restore_{uuid.uuid4().hex[:12]}"
        admin = create_engine(make_url(PG_URL).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        urls["postgresql"] = make_url(PG_URL).set(database=name).render_as_string(
            hide_password=False)
    yield urls
    if admin is not None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{urls["postgresql"].rsplit("/", 1)[1]}" '
                           "WITH (FORCE)"))
        admin.dispose()


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        with db.unit_of_work() as s:
            return {t.name: [tuple(r) for r in s.execute(
                select(t).order_by(*t.primary_key.columns))] for t in tables()}
    finally:
        db.dispose()


def _at(settings: Settings, url: str) -> Settings:
    return Settings(database_url=url, var_dir=settings.var_dir, demo_mode=True)


def test_a_backup_restores_row_for_row_into_an_empty_database_on_every_engine(
        installation: Installation, flowed: Path, empty_databases: dict[str, str]) -> None:
    source = _rows(installation.settings.database_url)
    assert all(source[t] for t in ("raw_messages", "settlement_facts", "case_events",
                                   "audit_log", "outbox", "chain_checkpoints"))
    source_audit = source.pop("audit_log")
    assert source_audit[-1][2:5] == ("system:backup", "backup.written", flowed.name)
    manifest = json.loads(zipfile.ZipFile(flowed).read("manifest.json"))
    assert {p["name"]: p["rows"] for p in manifest["tables"]} == {
        "audit_log": len(source_audit) - 1, **{k: len(v) for k, v in source.items()}}
    for target, url in empty_databases.items():
        result = run_cli(_at(installation.settings, url), "restore", str(flowed), "--json")
        assert result.exit_code == 0, (target, result.output)
        report = json.loads(result.stdout)
        assert report["verified"] is True and report["replaced"] == {}
        assert report["chains"] == manifest["chains"]
        restored = _rows(url)
        audit = restored.pop("audit_log")
        assert audit[:-1] == source_audit[:-1], target  # what was there before the backup
        assert audit[-1][2:5] == ("system:restore", "backup.restored", flowed.name)
        assert restored == source, target
        verify = run_cli(_at(installation.settings, url), "verify")
        assert verify.exit_code == 0, (target, verify.output)


def test_a_target_holding_data_is_refused_unless_forced(installation: Installation,
                                                        filled: Path) -> None:
    settings = installation.settings
    before = _rows(settings.database_url)
    # the backup's own audit record moved the head: one more checkpoint than the backup holds
    assert run_cli(settings, "audit", "verify").exit_code == 0
    refused = run_cli(settings, "restore", str(filled))
    assert refused.exit_code == 1
    assert "目标数据库不是空的" in refused.output and "--force" in refused.output
    forced = run_cli(settings, "restore", str(filled), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    report = json.loads(forced.stdout)
    assert report["replaced"]["chain_checkpoints"] == len(before["chain_checkpoints"]) + 1
    after = _rows(settings.database_url)
    assert after["chain_checkpoints"] == before["chain_checkpoints"]
    assert after["audit_log"][:-1] == before["audit_log"][:-1]
    assert run_cli(settings, "verify").exit_code == 0


def _rewrite(backup: Path, out: Path, name: str, change: Any) -> None:
    with zipfile.ZipFile(backup) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, change(data) if item.filename == name else data)


def _count(url: str) -> int:
    db = Database(url)
    try:
        with db.unit_of_work() as s:
            if "users" not in set(s.get_bind().dialect.get_table_names(s.connection())):
                return 0
            return sum(s.scalar(select(func.count()).select_from(t)) or 0 for t in tables())
    finally:
        db.dispose()


@pytest.mark.parametrize("part, change, message", [
    ("tables/users.jsonl", lambda b: b.replace(b'"client_manager"', b'"branch_admin"', 1),
     "table users in the backup does not match the manifest"),
    ("tables/users.jsonl", lambda b: b"[1, 2\n" + b,
     "table users line 1 in the backup cannot be read"),
    ("manifest.json", lambda b: b.replace(b'"rows": 3', b'"rows": 2', 1),
     "the backup manifest's signature is invalid"),
])
def test_a_changed_backup_file_is_refused_and_changes_nothing(
        installation: Installation, filled: Path, empty_databases: dict[str, str],
        tmp_path: Path, part: str, change: Any, message: str) -> None:
    changed = tmp_path / "changed.zip"
    _rewrite(filled, changed, part, change)
    url = empty_databases["sqlite"]
    result = run_cli(_at(installation.settings, url), "restore", str(changed))
    assert result.exit_code == 1
    assert message in result.output
    assert _count(url) == 0


def test_a_file_that_is_not_a_backup_is_refused_with_a_clear_message(
        installation: Installation, empty_databases: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "holiday-photos.zip"
    bogus.write_bytes(b"not a zip at all")
    result = run_cli(_at(installation.settings, empty_databases["sqlite"]), "restore",
                     str(bogus))
    assert result.exit_code == 1 and "not a yibaodai-backup/1 file" in result.output
    assert isinstance(result.exception, SystemExit)  # an answer, not a traceback


def test_a_target_with_other_chain_keys_refuses_the_restore(
        installation: Installation, filled: Path, empty_databases: dict[str, str],
        tmp_path: Path) -> None:
    other = Settings(database_url=empty_databases["sqlite"], var_dir=tmp_path / "other-var",
                     demo_mode=True)
    shutil.copytree(installation.settings.keys_dir, other.keys_dir)
    other.chain_keys_path.unlink()  # the SM2 keys are the bank's, the chain key is not
    result = run_cli(other, "restore", str(filled))
    assert result.exit_code == 1
    assert "the restored data does not verify (other chain keys?)" in result.output
    assert _count(other.database_url) == 0

"""Backup and restore of an installation's database, portable between SQLite and PostgreSQL.

The file is a zip archive::

    manifest.json            what is inside, and the bank's signature over it
    tables/<table>.jsonl     one line per row: a JSON list of the row's values in the
                             manifest's column order (``ops.codec``: money as integer fen,
                             times ISO 8601 with offset, bytes base64), rows in key order

The manifest holds the format, the schema revision, when and from which engine the backup
was made, for each table its row count, columns and the SM3 of its part, and for each chain
(``ops.integrity.CHAINS``) its record count, last id and head hash. It is signed with the
bank's SM2 key (``audit.keys.SigningKeys``), so a changed row, a changed part hash or a
changed head is refused on restore. The rows are read in one transaction (PostgreSQL:
REPEATABLE READ; SQLite: the write lock, so writers wait for the backup).

:func:`restore` checks the signature, brings the target's schema to the code's revision
(which must be the backup's), and in one transaction refuses a target holding any row unless
``force`` (then every row of every table is deleted first — the append-only triggers lifted
inside that transaction), loads every part checking its SM3 and row count, verifies every
chain against its restored checkpoints and compares counts and heads with the manifest, and
appends one audit record of the restore (a backup is audited too, after its snapshot). Any
failure rolls everything back: the target is as it was. The chain keys are not in the
backup: the target must have the installation's keys.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text
from sqlalchemy.orm import Session

from yibaodai.audit.chain import canonical
from yibaodai.audit.checkpoints import verify
from yibaodai.audit.keys import SigningKeys
from yibaodai.audit.log import record
from yibaodai.db.append_only import lifted
from yibaodai.db.migrate import heads, upgrade
from yibaodai.db.models import Base
from yibaodai.db.session import Database
from yibaodai.errors import Conflict, TamperDetected
from yibaodai.ops.codec import TableCodec
from yibaodai.ops.integrity import CHAINS

FORMAT = "yibaodai-backup/1"
MANIFEST = "manifest.json"
BATCH = 1000
BACKUP_ACTOR = "system:backup"
RESTORE_ACTOR = "system:restore"

#: ``progress(table, rows done, rows in the table)``, called every ``BATCH`` rows and at the
#: end of each table.
Progress = Callable[[str, int, int], None]


def _quiet(_table: str, _done: int, _total: int) -> None:
    pass


#: Not data but notes about it (``db.changes``): the restore's own writes note themselves,
#: and restoring old notes could make a running server's cache take new data for old.
NOT_BACKED_UP = frozenset({"data_changes"})


def tables() -> list[Table]:
    """Every table of the schema but the change notes, parents before children (the order
    rows are loaded in)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


def _part(table: Table) -> str:
    return f"tables/{table.name}.jsonl"


def _chain_heads(conn: Connection | Session) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, chain in CHAINS.items():
        model = chain.model
        count = conn.scalar(select(func.count()).select_from(model)) or 0
        last = conn.execute(select(model.id, model.record_hash).order_by(model.id.desc())
                            .limit(1)).first()
        out[name] = {"records": count, "last_id": last[0] if last else 0,
                     "head": last[1] if last else "0" * 64}
    return out


def _signed_bytes(manifest: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in manifest.items() if k != "signature"})


def _dump_table(conn: Connection, table: Table, out: IO[bytes], progress: Progress
                ) -> dict[str, Any]:
    codec = TableCodec.of(table)
    total = conn.scalar(select(func.count()).select_from(table)) or 0
    digest = hashlib.new("sm3")
    done = 0
    rows = conn.execute(select(table).order_by(*table.primary_key.columns)
                        .execution_options(yield_per=BATCH))
    for row in rows:
        line = json.dumps(codec.encode(row), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8") + b"\n"
        out.write(line)
        digest.update(line)
        done += 1
        if done % BATCH == 0:
            progress(table.name, done, total)
    progress(table.name, done, total)
    return {"name": table.name, "file": _part(table), "rows": done,
            "columns": list(codec.columns), "sm3": digest.hexdigest()}


def _write_backup(db: Database, partial: Path, *, signing: SigningKeys, key_id: str,
                  now: datetime, progress: Progress) -> dict[str, Any]:
    """Every table and the signed manifest, read in one transaction, into ``partial``."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin(), zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
            parts = []
            for table in tables():
                with archive.open(_part(table), "w", force_zip64=True) as out:
                    parts.append(_dump_table(conn, table, out, progress))
            manifest: dict[str, Any] = {
                "format": FORMAT, "created_at": now.isoformat(), "schema_revision": revision,
                "source_engine": conn.dialect.name, "yibaodai_version": version("yibaodai"),
                "tables": parts, "chains": _chain_heads(conn), "key_id": key_id}
            manifest["signature"] = signing.sign(_signed_bytes(manifest))
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def backup(db: Database, path: Path, *, signing: SigningKeys, now: datetime,
           progress: Progress = _quiet) -> dict[str, Any]:
    """Write the backup of ``db`` to ``path`` (via a ``.partial`` file renamed at the end, so
    ``path`` never holds half a backup), then audit it (a record after the backed-up head:
    who took a copy of the bank's data, and when); returns the signed manifest."""
    key_id = signing.signer  # fail before reading anything when this machine cannot sign
    partial = path.with_name(path.name + ".partial")
    try:
        manifest = _write_backup(db, partial, signing=signing, key_id=key_id, now=now,
                                 progress=progress)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    with db.unit_of_work() as session:
        record(session, at=now, actor=BACKUP_ACTOR, action="backup.written", target=path.name,
               details={"os_user": getpass.getuser(), "rows": {
                   p["name"]: p["rows"] for p in manifest["tables"]},
                   "chains": manifest["chains"]})
        session.commit()
    return manifest


def read_manifest(archive: zipfile.ZipFile, signing: SigningKeys) -> dict[str, Any]:
    """The manifest, if it is this format and validly signed by the bank."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise TamperDetected("备份文件没有可读的清单", f"the backup has no readable manifest: "
                             f"{exc}", code="backup_invalid") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TamperDetected("不是医保贷备份文件", f"not a {FORMAT} file",
                             code="backup_invalid")
    if not signing.verify(str(manifest.get("key_id")), _signed_bytes(manifest),
                          str(manifest.get("signature"))):
        raise TamperDetected("备份清单的签名无效（文件被修改，或不是本行的备份）",
                             "the backup manifest's signature is invalid (the file was changed, "
                             "or it is not this bank's backup)", code="backup_signature")
    return manifest


def _lines(archive: zipfile.ZipFile, part: dict[str, Any]) -> Iterator[bytes]:
    """The part's lines; raises unless their SM3 and count are the manifest's."""
    digest = hashlib.new("sm3")
    count = 0
    with archive.open(part["file"]) as stream:
        for line in stream:
            digest.update(line)
            count += 1
            yield line
    if digest.hexdigest() != part["sm3"] or count != part["rows"]:
        raise TamperDetected(f"备份中表 {part['name']} 的数据与清单不符",
                             f"table {part['name']} in the backup does not match the manifest "
                             f"(SM3 or row count)", code="backup_part_altered")


def _load(session: Session, archive: zipfile.ZipFile, table: Table, part: dict[str, Any],
          progress: Progress) -> None:
    codec = TableCodec.of(table)
    if list(codec.columns) != part["columns"]:
        raise Conflict(f"备份中表 {table.name} 的列与当前结构不同",
                       f"table {table.name} has other columns in the backup",
                       code="backup_schema_differs")
    batch: list[dict[str, Any]] = []
    done = 0
    for n, line in enumerate(_lines(archive, part), start=1):
        try:
            batch.append(codec.decode(json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise TamperDetected(f"备份中表 {table.name} 第 {n} 行无法读取",
                                 f"table {table.name} line {n} in the backup cannot be read: "
                                 f"{exc}", code="backup_part_altered") from exc
        if len(batch) == BATCH:
            session.execute(insert(table), batch)
            done += len(batch)
            batch = []
            progress(table.name, done, part["rows"])
    if batch:
        session.execute(insert(table), batch)
    progress(table.name, part["rows"], part["rows"])


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: rows came with their ids, so each serial's next value is set past them."""
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        sequence = session.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                  {"t": table.name, "c": pk[0].name})
        if sequence:
            session.execute(text(
                f"SELECT setval(:s, COALESCE((SELECT max({pk[0].name}) FROM {table.name}), 0) "
                "+ 1, false)"), {"s": sequence})


@dataclass
class Restored:
    tables: dict[str, int]
    chains: dict[str, dict[str, Any]]
    replaced: dict[str, int] = field(default_factory=dict)
    audit_id: int = 0


def restore(db: Database, path: Path, *, signing: SigningKeys, now: datetime,
            force: bool = False, progress: Progress = _quiet) -> Restored:
    """Restore the backup at ``path`` into ``db`` (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise TamperDetected("不是医保贷备份文件（无法打开）", f"not a {FORMAT} file: {exc}",
                             code="backup_invalid") from exc
    with archive:
        manifest = read_manifest(archive, signing)
        code_heads = heads(db.url)
        if manifest["schema_revision"] not in code_heads:
            raise Conflict(
                f"备份的数据库结构版本为 {manifest['schema_revision']}，本程序为 "
                f"{', '.join(code_heads)}：请用制作备份的版本恢复后再升级",
                f"the backup is at schema revision {manifest['schema_revision']}, this "
                f"program at {', '.join(code_heads)}: restore with the version that made it, "
                "then upgrade", code="backup_revision")
        upgrade(db.url)
        parts = {p["name"]: p for p in manifest["tables"]}
        with db.unit_of_work() as session:
            held = {t.name: n for t in tables()
                    if (n := session.scalar(select(func.count()).select_from(t)) or 0)}
            if held and not force:
                raise Conflict("目标数据库不是空的（如要替换其全部数据，请加 --force）",
                               "the target database is not empty (--force replaces all of "
                               f"its data): {held}", code="restore_target_not_empty",
                               details={"rows": held})
            if held:
                with lifted(session):
                    for table in reversed(tables()):
                        session.execute(delete(table))
            for table in tables():
                _load(session, archive, table, parts[table.name], progress)
            if session.get_bind().dialect.name == "postgresql":
                _reset_sequences(session)
            restored = _check(session, db, manifest, signing)
            restored.replaced = held
            restored.audit_id = record(
                session, at=now, actor=RESTORE_ACTOR, action="backup.restored",
                target=path.name, details={
                    "os_user": getpass.getuser(), "backup_created_at": manifest["created_at"],
                    "source_engine": manifest["source_engine"], "rows": restored.tables,
                    "chains": restored.chains, "replaced_rows": held}).id
            session.commit()
    return restored


def _check(session: Session, db: Database, manifest: dict[str, Any],
           signing: SigningKeys) -> Restored:
    """What was loaded, verified: every chain intact against its restored checkpoints, and
    counts and heads the manifest's."""
    counts = {t.name: session.scalar(select(func.count()).select_from(t)) or 0
              for t in tables()}
    expected = {p["name"]: p["rows"] for p in manifest["tables"]}
    for chain in CHAINS.values():
        report = verify(session, chain, keys=db.chain_keys, signing=signing)
        if report.problem is not None:
            raise TamperDetected(
                f"恢复的数据未通过校验（链密钥不同？）：{report.problem.message_zh}",
                f"the restored data does not verify (other chain keys?): "
                f"{report.problem.message_en}", code="restore_chain_broken")
    chains = _chain_heads(session)
    if counts != expected or chains != manifest["chains"]:
        raise TamperDetected("恢复后的行数或链头与备份清单不符",
                             "row counts or chain heads after restore differ from the manifest",
                             code="restore_mismatch")
    return Restored(tables=counts, chains=chains)

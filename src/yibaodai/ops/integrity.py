"""The three chains of the bank, verified and checkpointed together.

``CHAINS`` names them as the command line does: ``audit`` (``audit_log``), ``archive``
(``raw_messages``) and ``case-events`` (``case_events``). :func:`write_checkpoints` is the
periodic job (the worker's scheduler calls it; so do ``yibaodai checkpoint`` and, after an
intact verification, ``yibaodai verify``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from yibaodai.audit.chain import Chain
from yibaodai.audit.checkpoints import Checkpoint, Report, advance, latest, sign_head, verify
from yibaodai.audit.keys import SigningKeys
from yibaodai.audit.log import AUDIT
from yibaodai.cases.events import CASE_EVENTS
from yibaodai.db.session import Database
from yibaodai.errors import FieldError, TamperDetected, ValidationFailed
from yibaodai.gateway.archive import ARCHIVE

CHAINS: dict[str, Chain[Any]] = {c.name: c for c in (AUDIT, ARCHIVE, CASE_EVENTS)}


def chains(names: Iterable[str] | None = None) -> list[Chain[Any]]:
    picked = list(names or CHAINS)
    unknown = [n for n in picked if n not in CHAINS]
    if unknown:
        raise ValidationFailed(f"未知的链：{unknown}，可选 {sorted(CHAINS)}",
                               f"unknown chain(s) {unknown}; known: {sorted(CHAINS)}",
                               code="unknown_chain", fields=[FieldError(
                                   "chain", "未知的链", "unknown chain")])
    return [CHAINS[n] for n in picked]


@dataclass(frozen=True)
class Verified:
    report: Report
    written: Checkpoint | None = None


def verify_chains(db: Database, *, signing: SigningKeys, names: Iterable[str] | None = None,
                  exported: Sequence[Checkpoint] = (), checkpoint_at: datetime | None
                  = None) -> list[Verified]:
    """Verify each chain against the stored and ``exported`` checkpoints; with
    ``checkpoint_at``, sign the head of each intact chain that moved (one transaction)."""
    out: list[Verified] = []
    with db.unit_of_work() as session:
        for chain in chains(names):
            report = verify(session, chain, keys=db.chain_keys, signing=signing,
                            exported=exported)
            written = None
            if report.ok and checkpoint_at is not None:
                written = sign_head(session, chain, report.walk, signing=signing,
                                    now=checkpoint_at)
            out.append(Verified(report, written))
        session.commit()
    return out


@dataclass
class CheckpointRun:
    written: list[Checkpoint] = field(default_factory=list)
    latest: list[Checkpoint] = field(default_factory=list)
    problems: dict[str, TamperDetected] = field(default_factory=dict)


def write_checkpoints(db: Database, *, signing: SigningKeys, now: datetime,
                      names: Iterable[str] | None = None) -> CheckpointRun:
    """Advance every chain's checkpoint (records since the last one are verified first). A
    chain that does not verify gets no checkpoint and is named in ``problems``; the others
    are still checkpointed. One transaction."""
    run = CheckpointRun()
    with db.unit_of_work() as session:
        for chain in chains(names):
            try:
                row = advance(session, chain, keys=db.chain_keys, signing=signing, now=now)
            except TamperDetected as exc:
                run.problems[chain.name] = exc
                continue
            if row is not None:
                run.written.append(row)
            last = latest(session, chain.name)
            if last is not None:
                run.latest.append(last)
        session.commit()
    return run


def read_exported(path: Path) -> list[Checkpoint]:
    """Checkpoints kept off the machine: a JSON list of them, or the output of
    ``yibaodai checkpoint --json`` (its ``latest``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"无法读取导出的检查点文件 {path}",
                               f"cannot read the exported checkpoints {path}: {exc}",
                               code="anchor_unreadable") from exc
    items = data.get("latest", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise TamperDetected("导出的检查点文件格式无效", f"{path}: not a list of checkpoints",
                             code="checkpoint_invalid")
    return [Checkpoint.from_dict(item) for item in items]

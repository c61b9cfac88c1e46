"""Signed checkpoints of the chains' heads.

A chain shows an edited or removed record only while a later record links past it; its
newest records can be removed, and someone holding the chain key could rewrite it all.
A checkpoint fixes what the chain looked like: ``(seq, chain, last_id, head_hash, records,
at, key_id)``, signed with the bank's SM2 key (``audit.keys.SigningKeys``). Verification
checks that the checkpoints run 1, 2, 3... with valid signatures, and the walk along each
chain checks every checkpoint it passes (``audit.chain.Anchor``): deleting the newest records
or rewriting the chain no longer matches the last checkpoint.

:func:`advance` is what a scheduler calls periodically: for each chain it checks only the
records after the chain's last checkpoint and signs the new head (nothing is written while
the head has not moved). The ``verify`` and ``checkpoint`` commands also write checkpoints.
A checkpoint exported off the machine (``yibaodai checkpoint --json``) can be given back to
``verify --anchor``: then even deleting checkpoints from the database is caught.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.audit.chain import Anchor, Chain, Problem, Walk, canonical, utc_iso, walk
from yibaodai.audit.keys import ChainKeys, SigningKeys
from yibaodai.db.locks import lock_for_append
from yibaodai.db.models import ChainCheckpointRow
from yibaodai.errors import TamperDetected


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as stored, exported (``checkpoint --json``) and read back
    (``verify --anchor``)."""

    seq: int
    chain: str
    last_id: int
    head_hash: str
    records: int
    at: datetime
    key_id: str
    signature: str

    @classmethod
    def of(cls, row: ChainCheckpointRow) -> Checkpoint:
        return cls(seq=row.seq, chain=row.chain, last_id=row.last_id, head_hash=row.head_hash,
                   records=row.records, at=row.at, key_id=row.key_id, signature=row.signature)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        try:
            return cls(seq=int(data["seq"]), chain=str(data["chain"]),
                       last_id=int(data["last_id"]), head_hash=str(data["head_hash"]),
                       records=int(data["records"]),
                       at=datetime.fromisoformat(str(data["at"])), key_id=str(data["key_id"]),
                       signature=str(data["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TamperDetected("检查点格式无效", f"invalid checkpoint: {exc}",
                                 code="checkpoint_invalid") from exc

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


def signed_message(*, seq: int, chain: str, last_id: int, head_hash: str, records: int,
                   at: datetime, key_id: str) -> bytes:
    """The bytes a checkpoint's signature covers (its fields, ``at`` in UTC)."""
    return canonical({"seq": seq, "chain": chain, "last_id": last_id, "head_hash": head_hash,
                      "records": records, "at": utc_iso(at), "key_id": key_id})


def signature_valid(cp: Checkpoint, signing: SigningKeys) -> bool:
    message = signed_message(seq=cp.seq, chain=cp.chain, last_id=cp.last_id,
                             head_hash=cp.head_hash, records=cp.records, at=cp.at,
                             key_id=cp.key_id)
    return signing.verify(cp.key_id, message, cp.signature)


def stored(session: Session) -> list[Checkpoint]:
    return [Checkpoint.of(r) for r in
            session.scalars(select(ChainCheckpointRow).order_by(ChainCheckpointRow.seq))]


def _bad_checkpoint(seq: int, zh: str, en: str) -> Problem:
    return Problem(kind="checkpoint", checkpoint_seq=seq, message_zh=f"检查点 #{seq}：{zh}",
                   message_en=f"checkpoint #{seq} {en}")


def check_signatures(rows: Iterable[Checkpoint], signing: SigningKeys, *,
                     contiguous: bool = True) -> Problem | None:
    """The first checkpoint that is not validly signed by the bank, or (``contiguous``: the
    database's own list) whose ``seq`` leaves a gap after the one before."""
    expected = 1
    for row in rows:
        if contiguous and row.seq != expected:
            return _bad_checkpoint(expected, "缺失（检查点序号不连续）",
                                   f"is missing (the sequence jumps to #{row.seq})")
        if not signature_valid(row, signing):
            return _bad_checkpoint(row.seq, "签名无效", "has an invalid signature")
        expected = row.seq + 1
    return None


def anchors(rows: Iterable[Checkpoint], chain: str, *,
            source: str = "checkpoint") -> list[Anchor]:
    return [Anchor(seq=r.seq, last_id=r.last_id, head_hash=r.head_hash, records=r.records,
                   source=source) for r in rows if r.chain == chain]


def latest(session: Session, chain: str) -> Checkpoint | None:
    row = session.scalars(select(ChainCheckpointRow).where(ChainCheckpointRow.chain == chain)
                          .order_by(ChainCheckpointRow.seq.desc()).limit(1)).first()
    return None if row is None else Checkpoint.of(row)


def sign_head(session: Session, chain: Chain[Any], state: Walk, *, signing: SigningKeys,
              now: datetime) -> Checkpoint | None:
    """Write a checkpoint of a head the caller has verified (``state`` from an intact walk);
    None when the chain is empty or its last checkpoint already covers this head."""
    if state.problem is not None:
        raise TamperDetected(state.problem.message_zh, state.problem.message_en,
                             code=f"chain_{state.problem.kind}")
    lock_for_append(session, ChainCheckpointRow.__tablename__)
    last = latest(session, chain.name)
    if state.records == 0 or (last is not None and last.last_id >= state.last_id):
        return None
    seq = (session.scalar(select(func.max(ChainCheckpointRow.seq))) or 0) + 1
    fields: dict[str, Any] = {"seq": seq, "chain": chain.name, "last_id": state.last_id,
                              "head_hash": state.head, "records": state.records, "at": now,
                              "key_id": signing.signer}
    signature = signing.sign(signed_message(**fields))
    session.add(ChainCheckpointRow(**fields, signature=signature))
    session.flush()
    return Checkpoint(**fields, signature=signature)


def advance(session: Session, chain: Chain[Any], *, keys: ChainKeys, signing: SigningKeys,
            now: datetime) -> Checkpoint | None:
    """Check the records after ``chain``'s last checkpoint and sign the new head. Raises
    ``TamperDetected`` (and writes nothing) if the last checkpoint or a newer record does not
    verify."""
    last = latest(session, chain.name)
    start = None
    if last is not None:
        if not signature_valid(last, signing):
            problem = _bad_checkpoint(last.seq, "签名无效", "has an invalid signature")
            raise TamperDetected(problem.message_zh, problem.message_en,
                                 code="checkpoint_invalid")
        start = Walk(records=last.records, last_id=last.last_id, head=last.head_hash,
                     legacy_allowed=False, anchored=last.last_id)
    return sign_head(session, chain, walk(session, chain, keys, start=start),
                     signing=signing, now=now)


@dataclass(frozen=True)
class Report:
    """One chain's verification: the walk, its latest checkpoint, and the first problem
    (in the checkpoints themselves, or along the chain)."""

    chain: str
    walk: Walk
    checkpoint: Checkpoint | None

    @property
    def problem(self) -> Problem | None:
        return self.walk.problem

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def newer_than_checkpoint(self) -> int:
        return self.walk.records - (self.checkpoint.records if self.checkpoint else 0)

    def line(self) -> str:
        if self.problem is not None:
            return f"{self.chain}: {self.problem.message_zh} / {self.problem.message_en}"
        w = self.walk
        unkeyed = f" ({w.legacy} unkeyed, from before 0011)" if w.legacy else ""
        cp = (f"checkpoint #{self.checkpoint.seq} covers {self.checkpoint.records}"
              f" ({self.newer_than_checkpoint} newer)" if self.checkpoint else "no checkpoint")
        return f"{self.chain} intact: {w.records} records{unkeyed}, head {w.head[:16]}, {cp}"

    def as_dict(self) -> dict[str, Any]:
        p = self.problem
        return {
            "chain": self.chain, "ok": self.ok, "records": self.walk.records,
            "last_id": self.walk.last_id, "head": self.walk.head,
            "unkeyed_records": self.walk.legacy,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.as_dict(),
            "problem": None if p is None else {
                "kind": p.kind, "record_id": p.record_id, "checkpoint_seq": p.checkpoint_seq,
                "message_zh": p.message_zh, "message_en": p.message_en},
        }


def verify(session: Session, chain: Chain[Any], *, keys: ChainKeys, signing: SigningKeys,
           exported: Iterable[Checkpoint] = ()) -> Report:
    """Walk the whole of ``chain`` against every stored checkpoint and every ``exported``
    one (checkpoints kept off the machine; their signatures are checked, not their seq)."""
    rows = stored(session)
    outside = [r for r in exported if r.chain == chain.name]
    own = [r for r in rows if r.chain == chain.name]
    last = own[-1] if own else None
    problem = check_signatures(rows, signing) or check_signatures(outside, signing,
                                                                  contiguous=False)
    if problem is not None:
        return Report(chain.name, Walk(problem=problem), last)
    state = walk(session, chain, keys, anchors=[*anchors(own, chain.name),
                                               *anchors(outside, chain.name,
                                                        source="exported checkpoint")])
    return Report(chain.name, state, last)

"""Keyed hash chains over the append-only tables (audit log, archive, case events).

Every row of a chained table (the ``ChainLink`` columns) carries ``prev_hash`` — the previous
row's ``record_hash``, or ``GENESIS`` for the first row — and its own ``record_hash``::

    record_hash = HMAC-SM3(key, "<chain>|hmac-sm3|<key id>|<prev_hash>|<content>")

``key`` is the bank's chain key ``link_key_id`` (``audit.keys``); ``content`` is the row's
content as sorted, compact UTF-8 JSON, times in UTC. Without the key nobody can edit a row
and recompute the later links to match: :func:`walk` names the first row whose link does not
match. The chain's name and the key id are inside the MAC, so a link cannot be moved to
another chain or read under another key.

Rows written before revision 0011 keep the unkeyed links they were written with (scheme
``sm3``: ``SM3(prev_hash || content)``, each chain's own legacy formula) and keep verifying;
such a link is accepted only before the chain's first keyed row and before the first
checkpoint it passes, so later rows cannot be "downgraded" to an unkeyed link.

What a chain cannot show by itself — its newest rows deleted, or the whole of it rewritten by
someone holding the key — the signed checkpoints show (``audit.checkpoints``): the walk checks
every checkpoint (``Anchor``) it passes: the record it names is there, with the hash and the
count of records the checkpoint signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Insert, Table, insert, inspect, select
from sqlalchemy.orm import Session

from yibaodai.audit.keys import ChainKeys, session_chain_keys
from yibaodai.db.locks import locked_tail
from yibaodai.db.models import ChainLink
from yibaodai.db.session import execute_and_commit

GENESIS = "0" * 64
KEYED = "hmac-sm3"
LEGACY = "sm3"

R = TypeVar("R", bound=ChainLink)


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def utc_iso(moment: datetime) -> str:
    """One spelling of a moment, whatever zone it was given in or read back with."""
    return moment.astimezone(UTC).isoformat()


def legacy_sm3(prev_hash: str, content: Mapping[str, Any]) -> str:
    """The unkeyed link of the rows written before 0011: ``SM3(prev_hash || content)``."""
    return hashlib.new("sm3", prev_hash.encode("utf-8") + canonical(content)).hexdigest()


def keyed_link(*, chain: str, key_id: str, key: bytes, prev_hash: str,
               content: Mapping[str, Any]) -> str:
    message = "|".join((chain, KEYED, key_id, prev_hash)).encode("ascii") + b"|" \
        + canonical(content)
    return hmac.new(key, message, "sm3").hexdigest()


def _always(_row: Any) -> bool:
    return True


@dataclass(frozen=True)
class Chain(Generic[R]):
    """One chained table: how its rows' content is read and (for rows before 0011) how
    their unkeyed links were made."""

    name: str
    label_zh: str
    label_en: str
    model: type[R]
    content: Callable[[R], dict[str, Any]]
    legacy_link: Callable[[str, R], str] | None = None
    #: A check of the row beyond its link (the archive: the body's SM3 is the stored one).
    row_intact: Callable[[R], bool] = _always


def _link(session: Session, chain: Chain[R], row: R) -> None:
    """Take the append lock of ``chain`` (held until the caller's transaction ends, so two
    writers never link onto the same tail) and link ``row`` onto its tail with the current
    chain key."""
    keys = session_chain_keys(session)
    tail = locked_tail(session, chain.model.__tablename__)
    row.prev_hash = tail if tail is not None else GENESIS
    row.link_scheme = KEYED
    row.link_key_id = keys.current_id
    row.record_hash = keyed_link(chain=chain.name, key_id=keys.current_id, key=keys.current,
                                 prev_hash=row.prev_hash, content=chain.content(row))


def append(session: Session, chain: Chain[R], row: R) -> R:
    """Link ``row`` onto the tail of ``chain`` with the current chain key and flush it. The
    append lock (``db.locks``) is held until the caller's transaction ends, so two writers
    never link onto the same tail."""
    _link(session, chain, row)
    session.add(row)
    session.flush()
    return row


@cache
def _insert(model: type[ChainLink]) -> Insert:
    """The Core INSERT into a chained table (built once per table; the values are bound).
    Inline: nothing is read back (no RETURNING of the id), so it can also be pipelined."""
    return insert(cast(Table, model.__table__)).inline()


def append_direct(session: Session, chain: Chain[R], row: R, *, commit: bool = False) -> None:
    """:func:`append` for a row nobody reads back in the transaction: the same lock, link
    and row, written by one Core INSERT of the attributes set on ``row`` (which stays out of
    the session, its id unset) instead of the session's flush. The flush's unit of work for
    one new row cost more Python than the lock, the link and the INSERT together (py-spy:
    the personal-data view's audit row, on the case page and the institution view).

    ``commit``: the caller's unit of work ends with this row (a page whose reads are done,
    and whose view must be on record before it is answered). On PostgreSQL the INSERT and
    the COMMIT then go in one round trip (``db.session.execute_and_commit``), so the chain's
    lock is held for one round trip after the tail is read instead of two."""
    _link(session, chain, row)
    state = inspect(row)
    values = {prop.columns[0].key: state.dict[prop.key]
              for prop in state.mapper.column_attrs if prop.key in state.dict}
    if commit:
        execute_and_commit(session, _insert(chain.model), values)
    else:
        session.execute(_insert(chain.model), values)


@dataclass(frozen=True)
class Anchor:
    """A signed statement the chain must still agree with: record ``last_id`` has hash
    ``head_hash`` and is the ``records``-th record. ``source`` names it in messages."""

    seq: int
    last_id: int
    head_hash: str
    records: int
    source: str = "checkpoint"


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: ``kind`` is one of ``altered``, ``link_broken``,
    ``unknown_key``, ``downgraded``, ``missing``, ``rewritten``, ``checkpoint``."""

    kind: str
    message_zh: str
    message_en: str
    record_id: int | None = None
    checkpoint_seq: int | None = None


@dataclass(frozen=True)
class Walk:
    """Where a walk along a chain got to: ``records`` records up to id ``last_id`` (0: none)
    ending in ``head``; ``legacy`` of them unkeyed; ``anchored`` the last id an anchor
    confirmed; ``problem`` the first one found."""

    records: int = 0
    last_id: int = 0
    head: str = GENESIS
    legacy: int = 0
    legacy_allowed: bool = True
    anchored: int = 0
    problem: Problem | None = field(default=None)


def _problem(chain: Chain[Any], kind: str, record_id: int, zh: str, en: str,
             anchor: Anchor | None = None) -> Problem:
    return Problem(kind=kind, record_id=record_id,
                   checkpoint_seq=None if anchor is None else anchor.seq,
                   message_zh=f"{chain.label_zh} {record_id}：{zh}",
                   message_en=f"{chain.label_en} {record_id} {en}")


def _expected(chain: Chain[R], keys: ChainKeys, row: R, state: Walk) -> tuple[str | None,
                                                                               Problem | None]:
    if row.link_scheme == KEYED:
        key = keys.get(row.link_key_id)
        if key is None or row.link_key_id is None:
            return None, _problem(chain, "unknown_key", row.id,
                                  f"使用了未知的链密钥 {row.link_key_id}",
                                  f"is linked with an unknown chain key {row.link_key_id}")
        return keyed_link(chain=chain.name, key_id=row.link_key_id, key=key,
                          prev_hash=state.head, content=chain.content(row)), None
    if row.link_scheme == LEGACY and chain.legacy_link is not None:
        if not state.legacy_allowed:
            return None, _problem(chain, "downgraded", row.id,
                                  "在带密钥的记录或检查点之后出现无密钥链接（已被改写）",
                                  "has an unkeyed link after keyed records or a checkpoint "
                                  "(rewritten)")
        return chain.legacy_link(state.head, row), None
    return None, _problem(chain, "altered", row.id, f"链接方式 {row.link_scheme!r} 无效",
                          f"has an invalid link scheme {row.link_scheme!r}")


def _check_anchor(chain: Chain[Any], anchor: Anchor, state: Walk) -> Problem | None:
    if anchor.head_hash == state.head and anchor.records == state.records:
        return None
    span = f"{state.anchored + 1}–{anchor.last_id}"
    return _problem(
        chain, "rewritten", anchor.last_id,
        f"与{anchor.source} #{anchor.seq} 不符（签名时共 {anchor.records} 条，现为 "
        f"{state.records} 条；第 {span} 条之间的记录被改写或删除）",
        f"does not match {anchor.source} #{anchor.seq} ({anchor.records} records when it was "
        f"signed, {state.records} now: records {span} were rewritten or removed)", anchor)


def _missing(chain: Chain[Any], anchor: Anchor, state: Walk) -> Problem:
    return _problem(
        chain, "missing", anchor.last_id,
        f"缺失（{anchor.source} #{anchor.seq} 记录了截至该条的 {anchor.records} 条记录）",
        f"is missing ({anchor.source} #{anchor.seq} recorded {anchor.records} records up to "
        f"it; the chain has {state.records} up to id {state.last_id})", anchor)


def walk(session: Session, chain: Chain[R], keys: ChainKeys, *,
         anchors: Iterable[Anchor] = (), start: Walk | None = None,
         batch: int = 500) -> Walk:
    """Check every link of ``chain`` after ``start`` (default: from the first record) and
    every anchor on the way; stops at the first problem. Rows are streamed in ``batch``es
    (the archive's bodies can be large)."""
    state = start or Walk()
    pending = sorted((a for a in anchors if a.last_id > state.last_id),
                     key=lambda a: (a.last_id, a.seq))
    model = chain.model
    rows = session.scalars(select(model).where(model.id > state.last_id).order_by(model.id)
                           .execution_options(yield_per=batch))
    for row in rows:
        if pending and pending[0].last_id < row.id:
            return replace(state, problem=_missing(chain, pending[0], state))
        if row.prev_hash != state.head:
            return replace(state, problem=_problem(
                chain, "link_broken", row.id, "与前一条记录的链接不符（此前的记录被删除或修改）",
                "does not link to the record before it (a record before it was deleted or "
                "altered)"))
        expected, problem = _expected(chain, keys, row, state)
        if problem is None and (expected != row.record_hash or not chain.row_intact(row)):
            problem = _problem(chain, "altered", row.id, "内容已被修改（与其哈希不符）",
                               "was altered (its content does not match its hash)")
        if problem is not None:
            return replace(state, problem=problem)
        keyed = row.link_scheme == KEYED
        state = replace(state, records=state.records + 1, last_id=row.id,
                        head=row.record_hash, legacy=state.legacy + (0 if keyed else 1),
                        legacy_allowed=state.legacy_allowed and not keyed)
        while pending and pending[0].last_id == row.id:
            problem = _check_anchor(chain, pending.pop(0), state)
            if problem is not None:
                return replace(state, problem=problem)
            state = replace(state, legacy_allowed=False, anchored=row.id)
    if pending:
        return replace(state, problem=_missing(chain, pending[0], state))
    return state

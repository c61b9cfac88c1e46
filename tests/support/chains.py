"""Filling the bank's three chains with real rows (through their own append functions) and
rewriting them as an attacker would, for the tamper-evidence and backup tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yibaodai.audit.chain import KEYED, LEGACY, Chain, keyed_link
from yibaodai.audit.log import record
from yibaodai.cases.events import append_case_event
from yibaodai.db.append_only import lifted
from yibaodai.db.models import CaseRow, DecisionRow, SubBranchRow, UserRow
from yibaodai.db.session import Database
from yibaodai.gateway.archive import archive_message
from yibaodai.ops.integrity import CHAINS
from yibaodai.protocol.sm3 import sm3_hex

CODE = "H21020200255"


@dataclass
class Context:
    """What the rows refer to: a case for case events, two staff for their actors."""

    now: datetime
    case_id: int = 0
    user_ids: list[int] = field(default_factory=list)


def prepare(session: Session, now: datetime) -> Context:
    sub = session.scalars(select(SubBranchRow.code).order_by(SubBranchRow.code)).first()
    users = [UserRow(username=f"cm{n}", display_name=f"客户经理{n}", staff_no=f"S{n}",
                     role="client_manager", sub_branch_code=sub, password_hash="-",
                     active=True) for n in (1, 2)]
    decision = DecisionRow(fixmedins_code=CODE, decided_at=now, trigger="first", result="admitted",
                           credit_limit=Decimal("300000.00"), reasons=[], inputs={},
                           rule_version="t", content_hash="0" * 64)
    session.add_all([*users, decision])
    session.flush()
    case = CaseRow(fixmedins_code=CODE, decision_id=decision.id, sub_branch_code=sub,
                   state="assigned", credit_limit=Decimal("300000.00"), assigned_at=now,
                   claim_deadline=now + timedelta(days=2))
    session.add(case)
    session.flush()
    return Context(now=now, case_id=case.id, user_ids=[u.id for u in users])


def _audit(s: Session, n: int, ctx: Context) -> int:
    return record(s, at=ctx.now + timedelta(minutes=n), actor=f"cm{n % 2 + 1}",
                  action="case.claim", target=f"case:{n}", details={"n": n, "备注": "已核实"}).id


def _archive(s: Session, n: int, ctx: Context) -> int:
    return archive_message(s, msgid=f"M{n:029d}", infno="8301", key_id="bureau-2026-01",
                           fixmedins_code=CODE, body=f'{{"n":{n},"名称":"康宁诊所"}}'.encode(),
                           received_at=ctx.now + timedelta(seconds=n)).id


def _case_event(s: Session, n: int, ctx: Context) -> int:
    return append_case_event(s, case_id=ctx.case_id, at=ctx.now + timedelta(hours=n),
                             event="claim", from_state="assigned", to_state="claimed",
                             actor_id=ctx.user_ids[0], details={"n": n}).id


WRITERS: dict[str, Callable[[Session, int, Context], int]] = {
    "audit": _audit, "archive": _archive, "case-events": _case_event}

FORGED_BODY = b'{"n":0,"forged":true}'

#: What a DBA might change in a row of each chain (consistently: a forged archive body comes
#: with its own SM3).
EDITS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "audit": lambda ctx: {"actor": "admin"},
    "archive": lambda ctx: {"body": FORGED_BODY, "body_sm3": sm3_hex(FORGED_BODY)},
    "case-events": lambda ctx: {"actor_id": ctx.user_ids[1]},
}


def fill(db: Database, chain: str, ctx: Context, count: int, *, first: int = 1) -> list[int]:
    """Append ``count`` rows to ``chain`` in one committed transaction; their ids."""
    with db.unit_of_work() as s:
        ids = [WRITERS[chain](s, n, ctx) for n in range(first, first + count)]
        s.commit()
    return ids


def table(chain: str) -> str:
    return CHAINS[chain].model.__tablename__


def relink(db: Database, chain: Chain[Any], *, from_id: int,
           link: Callable[[str, Any], tuple[str, str, str | None]]) -> None:
    """As a DBA: recompute the links of every row from ``from_id`` on with ``link(prev,
    row) -> (record_hash, scheme, key_id)``, so that the chain links up again."""
    with db.unit_of_work() as s:
        with lifted(s):
            prev = "0" * 64
            for row in s.scalars(select(chain.model).order_by(chain.model.id)).all():
                if row.id < from_id:
                    prev = row.record_hash
                    continue
                record_hash, scheme, key_id = link(prev, row)
                s.execute(text(f"UPDATE {chain.model.__tablename__} SET prev_hash = :p, "
                               "record_hash = :r, link_scheme = :s, link_key_id = :k "
                               "WHERE id = :id"),
                          {"p": prev, "r": record_hash, "s": scheme, "k": key_id,
                           "id": row.id})
                prev = record_hash
        s.commit()


def keyed_with(chain: Chain[Any], key: bytes, key_id: str
               ) -> Callable[[str, Any], tuple[str, str, str | None]]:
    def link(prev: str, row: Any) -> tuple[str, str, str | None]:
        return (keyed_link(chain=chain.name, key_id=key_id, key=key, prev_hash=prev,
                           content=chain.content(row)), KEYED, key_id)
    return link


def unkeyed(chain: Chain[Any]) -> Callable[[str, Any], tuple[str, str, str | None]]:
    assert chain.legacy_link is not None

    def link(prev: str, row: Any) -> tuple[str, str, str | None]:
        assert chain.legacy_link is not None
        return chain.legacy_link(prev, row), LEGACY, None
    return link

"""tamper evidence: keyed chain links, chained case events, signed checkpoints, append-only
triggers

* ``audit_log`` and ``raw_messages`` gain ``link_scheme`` and ``link_key_id``: the rows they
  hold keep their unkeyed SM3 links (scheme ``sm3``) and keep verifying; rows written from
  now on are linked with HMAC-SM3 under the bank's chain key (``hmac-sm3``, the key's id).
* ``case_events`` becomes a chain: the events that exist are linked now, unkeyed (``sm3``,
  the formula of ``yibaodai.cases.events.legacy_content``); later ones are keyed.
* ``chain_checkpoints``: signed heads of the chains.
* Triggers refuse UPDATE and DELETE (PostgreSQL: also TRUNCATE) on the four tables.

Unkeyed rows are only as safe as the first checkpoint that covers them: run
``yibaodai checkpoint`` right after upgrading (docs/security.md).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types
from yibaodai.audit.chain import GENESIS, LEGACY, legacy_sm3
from yibaodai.cases.events import legacy_content
from yibaodai.db import append_only

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_log", "raw_messages", "case_events", "chain_checkpoints")


def _link_existing_case_events() -> None:
    events = sa.table(
        "case_events", sa.column("id", sa.Integer()), sa.column("case_id", sa.Integer()),
        sa.column("at", yibaodai.db.types.AwareDateTime()), sa.column("event", sa.String()),
        sa.column("from_state", sa.String()), sa.column("to_state", sa.String()),
        sa.column("actor_id", sa.Integer()), sa.column("details", sa.JSON()),
        sa.column("prev_hash", sa.String()), sa.column("record_hash", sa.String()),
        sa.column("link_scheme", sa.String()))
    bind = op.get_bind()
    prev = GENESIS
    links = []
    for r in bind.execute(sa.select(events).order_by(events.c.id)):
        record = legacy_sm3(prev, legacy_content(
            case_id=r.case_id, at=r.at, event=r.event, from_state=r.from_state,
            to_state=r.to_state, actor_id=r.actor_id, details=r.details))
        links.append({"_id": r.id, "prev": prev, "record": record})
        prev = record
    if links:
        bind.execute(events.update().where(events.c.id == sa.bindparam("_id")).values(
            prev_hash=sa.bindparam("prev"), record_hash=sa.bindparam("record"),
            link_scheme=LEGACY), links)


def upgrade() -> None:
    for table in ("audit_log", "raw_messages"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('link_scheme', sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column('link_key_id', sa.String(length=40), nullable=True))
        op.execute(f"UPDATE {table} SET link_scheme = '{LEGACY}'")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('link_scheme', existing_type=sa.String(length=20),
                                  nullable=False)
    with op.batch_alter_table('case_events') as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('record_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('link_scheme', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('link_key_id', sa.String(length=40), nullable=True))
    _link_existing_case_events()
    with op.batch_alter_table('case_events') as batch_op:
        for column, length in (('prev_hash', 64), ('record_hash', 64), ('link_scheme', 20)):
            batch_op.alter_column(column, existing_type=sa.String(length=length),
                                  nullable=False)
    op.create_table('chain_checkpoints',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('chain', sa.String(length=20), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_chain_checkpoints'))
    )
    append_only.install(op.get_bind(), TABLES)


def downgrade() -> None:
    append_only.remove(op.get_bind(), TABLES, drop_function=True)
    op.drop_table('chain_checkpoints')
    with op.batch_alter_table('case_events') as batch_op:
        for column in ('link_key_id', 'link_scheme', 'record_hash', 'prev_hash'):
            batch_op.drop_column(column)
    for table in ("raw_messages", "audit_log"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('link_key_id')
            batch_op.drop_column('link_scheme')

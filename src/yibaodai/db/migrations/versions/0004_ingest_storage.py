"""ingest storage: archive bodies as bytes; settlement facts keyed by their natural key

* The raw-message archive keeps the request body exactly as received: bytes, so that nothing
  is decoded on the way in (and re-encoded by the driver) and the SM3 of the stored value is
  the SM3 of what came over the wire.
* ``settlement_facts`` is keyed by (fixmedins_code, setl_date, insutype, clr_type), which was
  already unique: the surrogate ``id`` (and its sequence and index) and the index on
  (fixmedins_code, setl_date) go. The primary key's leading columns serve the same
  per-institution date-range queries, and every 8301 row loaded paid for all three indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KEY = ['fixmedins_code', 'setl_date', 'insutype', 'clr_type']


def upgrade() -> None:
    with op.batch_alter_table('settlement_facts') as batch_op:
        batch_op.drop_index('ix_settlement_facts_code_date')
        batch_op.drop_constraint('uq_settlement_facts_fixmedins_code', type_='unique')
        batch_op.drop_constraint('pk_settlement_facts', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_settlement_facts', KEY)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('raw_messages', 'body', type_=sa.LargeBinary(),
                        existing_type=sa.Text(), existing_nullable=False,
                        postgresql_using="convert_to(body, 'UTF8')")
        return
    # SQLite: the stored values become BLOBs (the UTF-8 bytes of the text), then the column
    # type is changed by the batch copy.
    op.execute("UPDATE raw_messages SET body = CAST(body AS BLOB)")
    with op.batch_alter_table('raw_messages') as batch_op:
        batch_op.alter_column('body', type_=sa.LargeBinary(), existing_type=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('raw_messages', 'body', type_=sa.Text(),
                        existing_type=sa.LargeBinary(), existing_nullable=False,
                        postgresql_using="convert_from(body, 'UTF8')")
        op.drop_constraint('pk_settlement_facts', 'settlement_facts', type_='primary')
        op.execute("ALTER TABLE settlement_facts ADD COLUMN id SERIAL")
        op.create_primary_key('pk_settlement_facts', 'settlement_facts', ['id'])
    else:
        with op.batch_alter_table('raw_messages') as batch_op:
            batch_op.alter_column('body', type_=sa.Text(), existing_type=sa.LargeBinary(),
                                  existing_nullable=False)
        op.execute("UPDATE raw_messages SET body = CAST(body AS TEXT)")
        # the copy numbers the rows: a new INTEGER PRIMARY KEY column is SQLite's rowid
        with op.batch_alter_table('settlement_facts', recreate='always') as batch_op:
            batch_op.drop_constraint('pk_settlement_facts', type_='primary')
            batch_op.add_column(sa.Column('id', sa.Integer(), nullable=False))
            batch_op.create_primary_key('pk_settlement_facts', ['id'])
    with op.batch_alter_table('settlement_facts') as batch_op:
        batch_op.create_unique_constraint('uq_settlement_facts_fixmedins_code', KEY)
        batch_op.create_index('ix_settlement_facts_code_date', ['fixmedins_code', 'setl_date'],
                              unique=False)

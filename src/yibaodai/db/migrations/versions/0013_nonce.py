"""hostile bureau messages: envelope nonces, the authorized name, a bounded quarantine

* ``gateway_nonces``: the nonces seen within the timestamp window (``Gateway``).
* ``authorizations.fixmedins_name``: the name the institution authorized under, compared
  with later messages' identity facts.
* ``quarantine``: ``authenticated``, ``source``, ``body_bytes``, ``body_sm3`` (the small
  record kept when the body is capped or dropped), indexes on ``received_at`` (retention) and
  ``body_sm3`` (a replayed refusal over the rate is not recorded twice).

Revision ID: 0013_nonce
Revises: 0008
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0013_nonce'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'gateway_nonces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('peer', sa.String(length=20), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('msgid', sa.String(length=40), nullable=False),
        sa.Column('seen_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_nonces')),
    )
    op.create_index('ix_gateway_nonces_peer_nonce', 'gateway_nonces', ['peer', 'nonce'])
    op.create_index(op.f('ix_gateway_nonces_seen_at'), 'gateway_nonces', ['seen_at'])
    with op.batch_alter_table('authorizations') as batch_op:
        batch_op.add_column(sa.Column('fixmedins_name', sa.String(length=200), nullable=True))
    with op.batch_alter_table('quarantine') as batch_op:
        batch_op.add_column(sa.Column('authenticated', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('body_bytes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('body_sm3', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_quarantine_received_at'), ['received_at'])
        batch_op.create_index(batch_op.f('ix_quarantine_body_sm3'), ['body_sm3'])


def downgrade() -> None:
    with op.batch_alter_table('quarantine') as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_body_sm3'))
        batch_op.drop_index(batch_op.f('ix_quarantine_received_at'))
        batch_op.drop_column('body_sm3')
        batch_op.drop_column('body_bytes')
        batch_op.drop_column('source')
        batch_op.drop_column('authenticated')
    with op.batch_alter_table('authorizations') as batch_op:
        batch_op.drop_column('fixmedins_name')
    op.drop_index(op.f('ix_gateway_nonces_seen_at'), table_name='gateway_nonces')
    op.drop_index('ix_gateway_nonces_peer_nonce', table_name='gateway_nonces')
    op.drop_table('gateway_nonces')

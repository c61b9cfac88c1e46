"""limit actions and external facts

* ``limit_actions``: a "reduce limit" or "freeze" decided when a warning was handled, reported
  to head office through the outbox, acknowledged by it (one per warning).
* ``external_facts``: what an external source (tax, registration, court enforcement) said
  about a borrower on a day, once per source, institution, kind and day.

Revision ID: 0015
Revises: 0008
Create Date: 2026-12-01 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0015'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> yibaodai.db.types.AwareDateTime:
    return yibaodai.db.types.AwareDateTime()


def upgrade() -> None:
    op.create_table(
        'limit_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('warning_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('requested_at', _when(), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('outbox_key', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('acknowledged_at', _when(), nullable=True),
        sa.Column('ho_ref', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_limit_actions_case_id_cases')),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'],
                                name=op.f('fk_limit_actions_requested_by_users')),
        sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                                name=op.f('fk_limit_actions_warning_id_warnings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_actions')),
        sa.UniqueConstraint('outbox_key', name=op.f('uq_limit_actions_outbox_key')),
        sa.UniqueConstraint('warning_id', name=op.f('uq_limit_actions_warning_id')),
    )
    op.create_index(op.f('ix_limit_actions_case_id'), 'limit_actions', ['case_id'])
    op.create_table(
        'external_facts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('fact_date', sa.Date(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('received_at', _when(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_facts')),
        sa.UniqueConstraint('source', 'fixmedins_code', 'kind', 'fact_date',
                            name=op.f('uq_external_facts_source')),
    )
    op.create_index(op.f('ix_external_facts_fixmedins_code'), 'external_facts',
                    ['fixmedins_code'])


def downgrade() -> None:
    op.drop_index(op.f('ix_external_facts_fixmedins_code'), table_name='external_facts')
    op.drop_table('external_facts')
    op.drop_index(op.f('ix_limit_actions_case_id'), table_name='limit_actions')
    op.drop_table('limit_actions')

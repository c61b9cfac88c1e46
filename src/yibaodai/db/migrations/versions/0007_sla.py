"""SLA: the platform inbox (reminders, escalations) and lifting a penalty with a reason

* ``notifications``: one row per reminder or escalation to one member of staff, once-only by
  ``key`` (a repeated sweep writes nothing new).
* ``sla_penalties.lifted_at / lifted_by / lift_reason``: a branch manager lifts a penalty
  before it runs out, saying why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> yibaodai.db.types.AwareDateTime:
    return yibaodai.db.types.AwareDateTime()


def upgrade() -> None:
    with op.batch_alter_table('sla_penalties') as batch_op:
        batch_op.add_column(sa.Column('lifted_at', _when(), nullable=True))
        batch_op.add_column(sa.Column('lifted_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lift_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_sla_penalties_lifted_by_users'), 'users',
                                    ['lifted_by'], ['id'])
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('at', _when(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('message_zh', sa.Text(), nullable=False),
        sa.Column('message_en', sa.Text(), nullable=False),
        sa.Column('read_at', _when(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_notifications_case_id_cases')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('key', name=op.f('uq_notifications_key')),
    )
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_table('notifications')
    with op.batch_alter_table('sla_penalties') as batch_op:
        batch_op.drop_constraint(op.f('fk_sla_penalties_lifted_by_users'), type_='foreignkey')
        batch_op.drop_column('lift_reason')
        batch_op.drop_column('lifted_by')
        batch_op.drop_column('lifted_at')

"""warning handling: the outcome kind, the action and how far a warning has escalated

* ``warnings.outcome_kind``: false_alarm / explained / risk_confirmed (the label per rule).
* ``warnings.action``: watch / reduce_limit / freeze / recover.
* ``warnings.escalation``: department / branch (null while with the client manager).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('warnings') as batch_op:
        batch_op.add_column(sa.Column('outcome_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('warnings') as batch_op:
        batch_op.drop_column('escalation')
        batch_op.drop_column('action')
        batch_op.drop_column('outcome_kind')

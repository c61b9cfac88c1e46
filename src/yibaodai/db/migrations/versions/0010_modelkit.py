"""model workbench reports

``model_reports``: the build and validation reports attached to a model version (issue 13).

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0010'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('model_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('created_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=50), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_model_reports_model_version_id_model_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_reports'))
    )
    with op.batch_alter_table('model_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_reports_model_version_id'), ['model_version_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('model_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_reports_model_version_id'))
    op.drop_table('model_reports')

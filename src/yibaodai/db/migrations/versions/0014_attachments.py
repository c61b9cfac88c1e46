"""case attachments: files on the verification checklist

* ``case_attachments``: the case, the checklist item, the file's name, the type read from
  its bytes, size, SHA-256, who uploaded it and when, and the bytes themselves.

Revision ID: 0014
Revises: 0015 (main's limit actions, merged first)
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibaodai.db.types import AwareDateTime

revision: str = '0014'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'case_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=30), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=60), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', AwareDateTime(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_case_attachments_case_id_cases')),
        sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'],
                                name=op.f('fk_case_attachments_uploaded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments')),
    )
    with op.batch_alter_table('case_attachments') as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachments_case_id'), ['case_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_attachments') as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachments_case_id'))
    op.drop_table('case_attachments')

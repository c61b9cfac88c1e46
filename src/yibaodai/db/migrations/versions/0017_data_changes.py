"""data changes

* ``data_changes``: a note per changing statement (PostgreSQL) or row (SQLite) on the tables
  the dashboard reads, written by triggers in the changing transaction (``db.changes``); the
  dashboard's cache compares the notes' (count, largest id) with those it was filled under.
* The triggers on those tables (the list is frozen here: a later read of another table adds
  its trigger in its own migration).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibaodai.db import changes

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("authorizations", "campaign_targets", "campaigns", "case_events", "cases",
          "decisions", "institutions", "outreach_events", "prospects", "sub_branches",
          "warnings")


def upgrade() -> None:
    op.create_table(
        'data_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('table_name', sa.String(length=63), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_changes')),
        sqlite_autoincrement=True,
    )
    changes.install(op.get_bind(), TABLES)


def downgrade() -> None:
    changes.remove(op.get_bind(), TABLES, drop_function=True)
    op.drop_table('data_changes')

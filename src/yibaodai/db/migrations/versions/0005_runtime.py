"""runtime: deferred flow events, job runs and leases, outbox claims

* ``flow_events``: events queued for a deferred handler (e.g. monitoring after new data), one
  row per (handler, event), handled by a worker;
* ``job_runs``: every run of a scheduled job (job, holder, started, finished, outcome, counts,
  error); ``job_leases``: who runs a job now (holder and expiry, taken by a conditional UPDATE);
* ``outbox.claimed_by`` / ``claimed_until``: the dispatcher sending a row, so two dispatchers
  never send it twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:06:10.758692
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('flow_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('event_key', sa.String(length=64), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('published_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_events')),
    sa.UniqueConstraint('handler', 'event_key', name='uq_flow_events_handler_event_key')
    )
    with op.batch_alter_table('flow_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_events_status'), ['status'], unique=False)

    op.create_table('job_leases',
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=80), nullable=True),
    sa.Column('expires_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_leases'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=80), nullable=False),
    sa.Column('started_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job'), ['job'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', yibaodai.db.types.AwareDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_job'))

    op.drop_table('job_runs')
    op.drop_table('job_leases')
    with op.batch_alter_table('flow_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_events_status'))

    op.drop_table('flow_events')

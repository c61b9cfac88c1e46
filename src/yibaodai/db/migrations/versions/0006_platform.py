"""report platform: server-side sessions, bearer tokens, password history, user locale

* ``web_sessions``: browser sessions kept on the server (idle and absolute expiry, revocation
  on log-out and password change), stored by the SHA-256 of the cookie's secret.
* ``api_tokens``: bearer tokens for machine clients, stored hashed, revocable.
* ``password_history``: argon2 hashes of earlier passwords (a change refuses the last five);
  every existing user's current hash is copied in.
* ``users.locale`` (zh-CN default) and ``users.must_change_password``.
* an index on ``audit_log.target`` (warning and case histories, the audit page's filter).

Revision ID: 0006
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0006'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> yibaodai.db.types.AwareDateTime:
    return yibaodai.db.types.AwareDateTime()


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=5), server_default='zh-CN',
                                      nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', _when(), nullable=False),
        sa.Column('last_seen_at', _when(), nullable=False),
        sa.Column('expires_at', _when(), nullable=False),
        sa.Column('revoked_at', _when(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_web_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'])
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', _when(), nullable=False),
        sa.Column('expires_at', _when(), nullable=False),
        sa.Column('last_used_at', _when(), nullable=True),
        sa.Column('revoked_at', _when(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'])
    op.create_table(
        'password_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('set_at', _when(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_password_history_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history')),
    )
    op.create_index(op.f('ix_password_history_user_id'), 'password_history', ['user_id'])
    # the history of a warning or a case, and the audit page's filter, look rows up by target
    op.create_index(op.f('ix_audit_log_target'), 'audit_log', ['target'])
    op.execute("INSERT INTO password_history (user_id, password_hash, set_at) "
               "SELECT id, password_hash, CURRENT_TIMESTAMP FROM users")


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_log_target'), table_name='audit_log')
    op.drop_index(op.f('ix_password_history_user_id'), table_name='password_history')
    op.drop_table('password_history')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('locale')

"""marketing: list imports, prospects, matches, outreach, campaigns (issue 12)

* ``list_imports``: one row per import of the bureau's list, with its report.
* ``prospects``: the institutions of the list, with their sub-branch, client manager, the
  gateway institution they are linked to and the do-not-contact flag.
* ``prospect_matches`` (append-only): how each row of each import was resolved.
* ``outreach_events`` (append-only): outcomes; the current state is the latest ``to_state``.
* ``campaigns``, ``campaign_targets`` and ``campaign_attributions``.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01 10:21:19.594602
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0009'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('list_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sm3', sa.String(length=64), nullable=False),
    sa.Column('imported_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=50), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('matching_version', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_imports'))
    )
    op.create_table('campaign_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('sub_branch_code', sa.String(length=10), nullable=False),
    sa.Column('target_count', sa.Integer(), nullable=False),
    sa.Column('target_amount_fen', yibaodai.db.types.Money(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_targets_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['sub_branch_code'], ['sub_branches.code'], name=op.f('fk_campaign_targets_sub_branch_code_sub_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_targets')),
    sa.UniqueConstraint('campaign_id', 'sub_branch_code', name=op.f('uq_campaign_targets_campaign_id'))
    )
    with op.batch_alter_table('campaign_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_targets_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('prospects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('address_key', sa.String(length=300), nullable=False),
    sa.Column('district', sa.String(length=6), nullable=False),
    sa.Column('phones', sa.JSON(), nullable=False),
    sa.Column('contact', sa.String(length=50), nullable=True),
    sa.Column('kind', sa.String(length=2), nullable=True),
    sa.Column('kind_text', sa.String(length=50), nullable=True),
    sa.Column('designated_on', sa.Date(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('institution_code', sa.String(length=12), nullable=True),
    sa.Column('link_reason', sa.String(length=20), nullable=True),
    sa.Column('link_score', sa.Integer(), nullable=True),
    sa.Column('sub_branch_code', sa.String(length=10), nullable=True),
    sa.Column('client_manager_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=True),
    sa.Column('assignment', sa.JSON(), nullable=False),
    sa.Column('do_not_contact', sa.Boolean(), nullable=False),
    sa.Column('do_not_contact_reason', sa.Text(), nullable=True),
    sa.Column('first_import_id', sa.Integer(), nullable=False),
    sa.Column('first_row', sa.Integer(), nullable=False),
    sa.Column('created_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_manager_id'], ['users.id'], name=op.f('fk_prospects_client_manager_id_users')),
    sa.ForeignKeyConstraint(['first_import_id'], ['list_imports.id'], name=op.f('fk_prospects_first_import_id_list_imports')),
    sa.ForeignKeyConstraint(['institution_code'], ['institutions.fixmedins_code'], name=op.f('fk_prospects_institution_code_institutions')),
    sa.ForeignKeyConstraint(['sub_branch_code'], ['sub_branches.code'], name=op.f('fk_prospects_sub_branch_code_sub_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prospects')),
    sa.UniqueConstraint('fixmedins_code', name=op.f('uq_prospects_fixmedins_code'))
    )
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prospects_client_manager_id'), ['client_manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prospects_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_prospects_institution_code'), ['institution_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_prospects_sub_branch_code'), ['sub_branch_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_prospects_uscc'), ['uscc'], unique=False)

    op.create_table('outreach_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('next_action_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_outreach_events_actor_id_users')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_outreach_events_prospect_id_prospects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_events'))
    )
    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_events_prospect_id'), ['prospect_id'], unique=False)

    op.create_table('prospect_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('sheet_row', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('into_row', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['list_imports.id'], name=op.f('fk_prospect_matches_import_id_list_imports')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_prospect_matches_prospect_id_prospects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prospect_matches'))
    )
    with op.batch_alter_table('prospect_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prospect_matches_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prospect_matches_prospect_id'), ['prospect_id'], unique=False)

    op.create_table('campaign_attributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('outreach_event_id', sa.Integer(), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('authorized_at', yibaodai.db.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('sub_branch_code', sa.String(length=10), nullable=True),
    sa.Column('client_manager_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_attributions_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['client_manager_id'], ['users.id'], name=op.f('fk_campaign_attributions_client_manager_id_users')),
    sa.ForeignKeyConstraint(['outreach_event_id'], ['outreach_events.id'], name=op.f('fk_campaign_attributions_outreach_event_id_outreach_events')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_campaign_attributions_prospect_id_prospects')),
    sa.ForeignKeyConstraint(['sub_branch_code'], ['sub_branches.code'], name=op.f('fk_campaign_attributions_sub_branch_code_sub_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_attributions')),
    sa.UniqueConstraint('campaign_id', 'prospect_id', name=op.f('uq_campaign_attributions_campaign_id'))
    )
    with op.batch_alter_table('campaign_attributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_attributions_campaign_id'), ['campaign_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_attributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_attributions_campaign_id'))

    op.drop_table('campaign_attributions')
    with op.batch_alter_table('prospect_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prospect_matches_prospect_id'))
        batch_op.drop_index(batch_op.f('ix_prospect_matches_import_id'))

    op.drop_table('prospect_matches')
    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_events_prospect_id'))

    op.drop_table('outreach_events')
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prospects_uscc'))
        batch_op.drop_index(batch_op.f('ix_prospects_sub_branch_code'))
        batch_op.drop_index(batch_op.f('ix_prospects_institution_code'))
        batch_op.drop_index(batch_op.f('ix_prospects_district'))
        batch_op.drop_index(batch_op.f('ix_prospects_client_manager_id'))

    op.drop_table('prospects')
    with op.batch_alter_table('campaign_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_targets_campaign_id'))

    op.drop_table('campaign_targets')
    op.drop_table('list_imports')
    op.drop_table('campaigns')

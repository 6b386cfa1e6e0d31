"""Mô hình tiêu biểu

Revision ID: 0024_mo_hinh
Revises: 0023_tin_tuc
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0024_mo_hinh'
down_revision: str | Sequence[str] | None = '0023_tin_tuc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mohinh_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('sector', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('description_md', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('results_md', sa.Text(), nullable=False),
    sa.Column('results_html', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('contact_phone', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('show_photos', sa.Boolean(), nullable=False),
    sa.Column('show_contact', sa.Boolean(), nullable=False),
    sa.Column('rights_confirmed', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('submitter_id', sa.Integer(), nullable=True),
    sa.Column('submit_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], name='fk_mohinh_model_commune_id_core_place'),
    sa.ForeignKeyConstraint(['submitter_id'], ['core_user.id'], name='fk_mohinh_model_submitter_id_core_user'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    sa.UniqueConstraint('submit_key')
    )
    with op.batch_alter_table('mohinh_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mohinh_model_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index('ix_mohinh_model_listing', ['status', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mohinh_model_submitter_id'), ['submitter_id'], unique=False)

    op.create_table('mohinh_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], name='fk_mohinh_transition_actor_id_core_user'),
    sa.ForeignKeyConstraint(['model_id'], ['mohinh_model.id'], name='fk_mohinh_transition_model_id_mohinh_model'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mohinh_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mohinh_transition_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mohinh_transition_model_id'), ['model_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mohinh_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mohinh_transition_model_id'))
        batch_op.drop_index(batch_op.f('ix_mohinh_transition_actor_id'))

    op.drop_table('mohinh_transition')
    with op.batch_alter_table('mohinh_model', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mohinh_model_submitter_id'))
        batch_op.drop_index('ix_mohinh_model_listing')
        batch_op.drop_index(batch_op.f('ix_mohinh_model_commune_id'))

    op.drop_table('mohinh_model')

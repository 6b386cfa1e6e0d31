"""Tin tức: news items

Revision ID: 0023_tin_tuc
Revises: 0022_hoi_dap
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0023_tin_tuc'
down_revision: str | Sequence[str] | None = '0022_hoi_dap'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tintuc_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('image', sa.JSON(), nullable=True),
    sa.Column('link_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('link_title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('link_url', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], name='fk_tintuc_item_commune_id_core_place'),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name='fk_tintuc_item_created_by_id_core_user'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['core_user.id'], name='fk_tintuc_item_updated_by_id_core_user'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tintuc_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tintuc_item_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tintuc_item_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_tintuc_item_listing', ['status', 'published_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tintuc_item', schema=None) as batch_op:
        batch_op.drop_index('ix_tintuc_item_listing')
        batch_op.drop_index(batch_op.f('ix_tintuc_item_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_tintuc_item_commune_id'))
    op.drop_table('tintuc_item')

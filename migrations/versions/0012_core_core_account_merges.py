"""Core: account merges (who merged which account into which) and merged_into_id on users

Revision ID: 0012_core
Revises: 0011_sms
Create Date: 2026-12-02 00:03:35.906947
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012_core'
down_revision: str | Sequence[str] | None = '0011_sms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_account_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=False),
    sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['kept_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['merged_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['merged_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_account_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_account_merge_kept_id'), ['kept_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_account_merge_merged_id'), ['merged_id'], unique=False)

    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_core_user_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key('fk_core_user_merged_into_id', 'core_user', ['merged_into_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_core_user_merged_into_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_core_user_merged_into_id'))
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('core_account_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_account_merge_merged_id'))
        batch_op.drop_index(batch_op.f('ix_core_account_merge_kept_id'))

    op.drop_table('core_account_merge')

"""Core: requests about a person's data (erasure) with their legal deadlines

Revision ID: 0017_core
Revises: 0016_programmes
Create Date: 2026-12-02 01:29:53.446965
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017_core'
down_revision: str | Sequence[str] | None = '0016_programmes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_data_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('acknowledge_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('complete_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['completed_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['filed_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_data_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_data_request_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_data_request_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_data_request_filed_at'), ['filed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_data_request_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_data_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_data_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_core_data_request_filed_at'))
        batch_op.drop_index(batch_op.f('ix_core_data_request_completed_at'))
        batch_op.drop_index(batch_op.f('ix_core_data_request_commune_id'))

    op.drop_table('core_data_request')

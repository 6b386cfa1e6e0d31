"""core: one-time links to set a password (claim, reset, invitation)

Revision ID: 0010_core
Revises: 0009_quiz
Create Date: 2026-12-01 21:47:01.366447
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010_core'
down_revision: str | Sequence[str] | None = '0009_quiz'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_password_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    with op.batch_alter_table('core_password_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_password_link_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_password_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_password_link_user_id'))

    op.drop_table('core_password_link')

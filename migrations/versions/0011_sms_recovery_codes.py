"""core: recovery codes sent by SMS; sms: the development gateway's messages

Revision ID: 0011_sms
Revises: 0010_core
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011_sms'
down_revision: str | Sequence[str] | None = '0010_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('code_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('tries_left', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phone_digest')
    )
    with op.batch_alter_table('core_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('sms_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_message_phone'), ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_message_phone'))
        batch_op.drop_index(batch_op.f('ix_sms_message_created_at'))
    op.drop_table('sms_message')

    with op.batch_alter_table('core_recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_recovery_code_user_id'))
    op.drop_table('core_recovery_code')

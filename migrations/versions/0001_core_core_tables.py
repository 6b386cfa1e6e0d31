"""Core tables: places, users, sessions, consents, log-in failures, set-up tokens.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001_core'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('failed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_login_failure_failed_at'), ['failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_login_failure_phone_digest'), ['phone_digest'], unique=False)

    op.create_table('core_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_place_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_place_parent_id'), ['parent_id'], unique=False)

    op.create_table('core_setup_token',
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest')
    )
    op.create_table('core_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_folded', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phone')
    )
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_user_audience'), ['audience'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_user_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_user_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_user_village_id'), ['village_id'], unique=False)

    op.create_table('core_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('text_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('helper_id', sa.Integer(), nullable=True),
    sa.Column('given_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['helper_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_consent_user_id'), ['user_id'], unique=False)

    op.create_table('core_session',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_core_session_expires_at'))

    op.drop_table('core_session')
    with op.batch_alter_table('core_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_consent_user_id'))

    op.drop_table('core_consent')
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_user_village_id'))
        batch_op.drop_index(batch_op.f('ix_core_user_role'))
        batch_op.drop_index(batch_op.f('ix_core_user_commune_id'))
        batch_op.drop_index(batch_op.f('ix_core_user_audience'))

    op.drop_table('core_user')
    op.drop_table('core_setup_token')
    with op.batch_alter_table('core_place', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_place_parent_id'))
        batch_op.drop_index(batch_op.f('ix_core_place_kind'))

    op.drop_table('core_place')
    with op.batch_alter_table('core_login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_login_failure_phone_digest'))
        batch_op.drop_index(batch_op.f('ix_core_login_failure_failed_at'))

    op.drop_table('core_login_failure')

"""Stats plugin: summary tables per day and week, active learners, targets, API tokens.

Revision ID: 0007_stats
Revises: 0006_teams
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007_stats'
down_revision: str | Sequence[str] | None = '0006_teams'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stats_active_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('day', 'user_id', 'course_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('stats_active_day', schema=None) as batch_op:
        batch_op.create_index('ix_stats_active_day_commune', ['commune_id', 'day', 'audience', 'village_id', 'user_id'], unique=False)

    op.create_table('stats_active_user',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('user_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('stats_active_user', schema=None) as batch_op:
        batch_op.create_index('ix_stats_active_user_commune', ['commune_id', 'last_day', 'audience', 'village_id'], unique=False)
        batch_op.create_index('ix_stats_active_user_last', ['last_day', 'audience', 'commune_id'], unique=False)

    op.create_table('stats_day_commune',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'key', 'commune_id', 'audience', 'course_id'),
    sqlite_with_rowid=False
    )
    op.create_table('stats_day_village',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'key', 'commune_id', 'village_id', 'audience', 'course_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('stats_day_village', schema=None) as batch_op:
        batch_op.create_index('ix_stats_day_village_commune', ['commune_id', 'day', 'key', 'village_id', 'audience', 'course_id', 'value'], unique=False)
        batch_op.create_index('ix_stats_day_village_members', ['commune_id', 'key', 'village_id', 'audience', 'course_id', 'day', 'value'], unique=False)

    op.create_table('stats_summary_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('days_until', sa.Date(), nullable=True),
    sa.Column('built_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stats_village_total',
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('commune_id', 'key', 'village_id', 'audience', 'course_id'),
    sqlite_with_rowid=False
    )
    op.create_table('stats_week_commune',
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('week', 'key', 'commune_id', 'audience', 'course_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('stats_week_commune', schema=None) as batch_op:
        batch_op.create_index('ix_stats_week_commune_commune', ['commune_id', 'week', 'key', 'value'], unique=False)

    op.create_table('stats_week_total',
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('week', 'key', 'commune_id', 'audience', 'course_id'),
    sqlite_with_rowid=False
    )
    op.create_table('stats_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    op.create_table('stats_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('commune_id', 'audience', 'kind', 'course_id')
    )


def downgrade() -> None:
    op.drop_table('stats_target')
    op.drop_table('stats_api_token')
    op.drop_table('stats_week_total')
    with op.batch_alter_table('stats_week_commune', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_week_commune_commune')

    op.drop_table('stats_week_commune')
    op.drop_table('stats_village_total')
    op.drop_table('stats_summary_state')
    with op.batch_alter_table('stats_day_village', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_day_village_members')
        batch_op.drop_index('ix_stats_day_village_commune')

    op.drop_table('stats_day_village')
    op.drop_table('stats_day_commune')
    with op.batch_alter_table('stats_active_user', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_active_user_last')
        batch_op.drop_index('ix_stats_active_user_commune')

    op.drop_table('stats_active_user')
    with op.batch_alter_table('stats_active_day', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_active_day_commune')

    op.drop_table('stats_active_day')

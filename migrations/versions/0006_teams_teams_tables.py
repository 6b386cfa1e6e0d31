"""Teams plugin: teams, villages, members, assisted residents and attempts, login cards, imports.

Revision ID: 0006_teams
Revises: 0005_events
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006_teams'
down_revision: str | Sequence[str] | None = '0005_events'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('teams_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('teams_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_team_commune_id'), ['commune_id'], unique=False)

    op.create_table('teams_assisted_resident',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['registered_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams_team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('teams_assisted_resident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_assisted_resident_registered_at'), ['registered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_teams_assisted_resident_team_id'), ['team_id'], unique=False)

    op.create_table('teams_import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams_team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('teams_import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_import_batch_team_id'), ['team_id'], unique=False)

    op.create_table('teams_login_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_digest')
    )
    with op.batch_alter_table('teams_login_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_login_card_user_id'), ['user_id'], unique=False)

    op.create_table('teams_member',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams_team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'user_id')
    )
    with op.batch_alter_table('teams_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_member_user_id'), ['user_id'], unique=False)

    op.create_table('teams_team_village',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams_team.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'village_id')
    )
    with op.batch_alter_table('teams_team_village', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_team_village_village_id'), ['village_id'], unique=False)

    op.create_table('teams_assisted_attempt',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('attempt_id')
    )


def downgrade() -> None:
    op.drop_table('teams_assisted_attempt')
    with op.batch_alter_table('teams_team_village', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_team_village_village_id'))

    op.drop_table('teams_team_village')
    with op.batch_alter_table('teams_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_member_user_id'))

    op.drop_table('teams_member')
    with op.batch_alter_table('teams_login_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_login_card_user_id'))

    op.drop_table('teams_login_card')
    with op.batch_alter_table('teams_import_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_import_batch_team_id'))

    op.drop_table('teams_import_batch')
    with op.batch_alter_table('teams_assisted_resident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_assisted_resident_team_id'))
        batch_op.drop_index(batch_op.f('ix_teams_assisted_resident_registered_at'))

    op.drop_table('teams_assisted_resident')
    with op.batch_alter_table('teams_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_team_commune_id'))

    op.drop_table('teams_team')

"""Programmes plugin: the courses of each audience's basic digital-skills level, and who reached it

Revision ID: 0016_programmes
Revises: 0015_core
Create Date: 2026-12-02 01:04:33.428530
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_programmes'
down_revision: str | Sequence[str] | None = '0015_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programmes_completion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('learner_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('user_id', 'audience')
    )
    with op.batch_alter_table('programmes_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmes_completion_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programmes_completion_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_programmes_completion_user_id'), ['user_id'], unique=False)

    op.create_table('programmes_course',
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['set_by_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('audience', 'course_id')
    )


def downgrade() -> None:
    op.drop_table('programmes_course')
    with op.batch_alter_table('programmes_completion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmes_completion_user_id'))
        batch_op.drop_index(batch_op.f('ix_programmes_completion_completed_at'))
        batch_op.drop_index(batch_op.f('ix_programmes_completion_commune_id'))

    op.drop_table('programmes_completion')

"""Courses plugin: courses, lessons, assets, enrolments, lesson progress, catalog state.

Revision ID: 0002_courses
Revises: 0001_core
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002_courses'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses_catalog_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('courses_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('audiences', sa.JSON(), nullable=False),
    sa.Column('domains', sa.JSON(), nullable=False),
    sa.Column('prerequisites', sa.JSON(), nullable=False),
    sa.Column('estimated_minutes', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quiz', sa.JSON(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('courses_asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('course_id', 'name')
    )
    with op.batch_alter_table('courses_asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_asset_course_id'), ['course_id'], unique=False)

    op.create_table('courses_lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('excerpt', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('word_count', sa.Integer(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('course_id', 'slug')
    )
    with op.batch_alter_table('courses_lesson', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_lesson_course_id'), ['course_id'], unique=False)

    op.create_table('courses_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.Column('last_activity_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('lessons_completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'course_id')
    )
    with op.batch_alter_table('courses_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_enrolment_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_enrolment_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_enrolment_user_id'), ['user_id'], unique=False)

    op.create_table('courses_lesson_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['lesson_id'], ['courses_lesson.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'lesson_id')
    )
    with op.batch_alter_table('courses_lesson_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_lesson_progress_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_lesson_progress_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_lesson_progress_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_lesson_progress_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('courses_lesson_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_lesson_progress_user_id'))
        batch_op.drop_index(batch_op.f('ix_courses_lesson_progress_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_courses_lesson_progress_course_id'))
        batch_op.drop_index(batch_op.f('ix_courses_lesson_progress_completed_at'))

    op.drop_table('courses_lesson_progress')
    with op.batch_alter_table('courses_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_enrolment_user_id'))
        batch_op.drop_index(batch_op.f('ix_courses_enrolment_course_id'))
        batch_op.drop_index(batch_op.f('ix_courses_enrolment_completed_at'))

    op.drop_table('courses_enrolment')
    with op.batch_alter_table('courses_lesson', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_lesson_course_id'))

    op.drop_table('courses_lesson')
    with op.batch_alter_table('courses_asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_asset_course_id'))

    op.drop_table('courses_asset')
    op.drop_table('courses_course')
    op.drop_table('courses_catalog_state')

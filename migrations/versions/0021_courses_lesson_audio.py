"""Courses: lessons to listen to (a person's recording per lesson, the machine voice per lesson version)

Revision ID: 0021_courses
Revises: 0020_core
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0021_courses'
down_revision: str | Sequence[str] | None = '0020_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses_lesson_recording',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('media_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('speaker_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('lesson_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('converted', sa.Boolean(), nullable=False),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['courses_lesson.id'],
                            name='fk_courses_lesson_recording_lesson_id_courses_lesson'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['core_user.id'],
                            name='fk_courses_lesson_recording_uploaded_by_id_core_user'),
    sa.PrimaryKeyConstraint('lesson_id')
    )
    with op.batch_alter_table('courses_lesson_recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_lesson_recording_uploaded_by_id'), ['uploaded_by_id'],
                              unique=False)

    op.create_table('courses_lesson_speech',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('voice', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('rules', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('media_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('generated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('generate_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['courses_lesson.id'],
                            name='fk_courses_lesson_speech_lesson_id_courses_lesson'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lesson_id', 'content_hash', 'voice', 'rules')
    )
    with op.batch_alter_table('courses_lesson_speech', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_lesson_speech_lesson_id'), ['lesson_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('courses_lesson_speech', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_lesson_speech_lesson_id'))

    op.drop_table('courses_lesson_speech')
    with op.batch_alter_table('courses_lesson_recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_lesson_recording_uploaded_by_id'))

    op.drop_table('courses_lesson_recording')

"""Courses: drafts, versions and change log of courses written in the browser, content editors;
a course's commune (its own courses) and source (pack or editor)

Revision ID: 0013_courses
Revises: 0013_certificates
Create Date: 2026-12-02 00:32:28.069590
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_courses'
down_revision: str | Sequence[str] | None = '0012_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('assets', sa.JSON(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('published_version', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('courses_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_draft_commune_id'), ['commune_id'], unique=False)

    op.create_table('courses_editor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('courses_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['draft_id'], ['courses_draft.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('courses_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_change_draft_id'), ['draft_id'], unique=False)

    op.create_table('courses_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('assets', sa.JSON(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['courses_draft.id'], ),
    sa.ForeignKeyConstraint(['published_by_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_id', 'version')
    )
    with op.batch_alter_table('courses_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_revision_draft_id'), ['draft_id'], unique=False)

    with op.batch_alter_table('courses_lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('competences', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('courses_course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commune_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='pack'))
        batch_op.add_column(sa.Column('cover', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_course_commune_id'), ['commune_id'], unique=False)
        batch_op.create_foreign_key('fk_courses_course_commune_id', 'core_place', ['commune_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('courses_lesson', schema=None) as batch_op:
        batch_op.drop_column('competences')

    with op.batch_alter_table('courses_course', schema=None) as batch_op:
        batch_op.drop_constraint('fk_courses_course_commune_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_courses_course_commune_id'))
        batch_op.drop_column('cover')
        batch_op.drop_column('source')
        batch_op.drop_column('commune_id')

    with op.batch_alter_table('courses_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_revision_draft_id'))

    op.drop_table('courses_revision')
    with op.batch_alter_table('courses_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_change_draft_id'))

    op.drop_table('courses_change')
    op.drop_table('courses_editor')
    with op.batch_alter_table('courses_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_draft_commune_id'))

    op.drop_table('courses_draft')

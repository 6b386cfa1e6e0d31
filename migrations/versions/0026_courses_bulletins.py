"""Courses: the loudspeaker bulletins staff made

Revision ID: 0026_courses
Revises: 0025_ke_hoach
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0026_courses'
down_revision: str | Sequence[str] | None = '0025_ke_hoach'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses_bulletin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('made_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], name='fk_courses_bulletin_commune_id_core_place'),
    sa.ForeignKeyConstraint(['made_by_id'], ['core_user.id'], name='fk_courses_bulletin_made_by_id_core_user'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('courses_bulletin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_bulletin_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_bulletin_made_at'), ['made_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_bulletin_made_by_id'), ['made_by_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('courses_bulletin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_bulletin_made_by_id'))
        batch_op.drop_index(batch_op.f('ix_courses_bulletin_made_at'))
        batch_op.drop_index(batch_op.f('ix_courses_bulletin_commune_id'))
    op.drop_table('courses_bulletin')

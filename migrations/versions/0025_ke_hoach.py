"""Kế hoạch

Revision ID: 0025_ke_hoach
Revises: 0024_mo_hinh
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0025_ke_hoach'
down_revision: str | Sequence[str] | None = '0024_mo_hinh'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kehoach_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('document_date', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('commune_id', 'source_key')
    )
    with op.batch_alter_table('kehoach_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kehoach_plan_commune_id'), ['commune_id'], unique=False)

    op.create_table('kehoach_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('partners', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('recurrence', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['kehoach_plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'source_key')
    )
    with op.batch_alter_table('kehoach_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kehoach_task_plan_id'), ['plan_id'], unique=False)

    op.create_table('kehoach_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['kehoach_plan.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['kehoach_task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kehoach_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kehoach_change_changed_by_id'), ['changed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kehoach_change_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kehoach_change_task_id'), ['task_id'], unique=False)

    op.create_table('kehoach_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['kehoach_task.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'key')
    )
    with op.batch_alter_table('kehoach_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kehoach_evidence_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kehoach_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kehoach_evidence_task_id'))

    op.drop_table('kehoach_evidence')
    with op.batch_alter_table('kehoach_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kehoach_change_task_id'))
        batch_op.drop_index(batch_op.f('ix_kehoach_change_plan_id'))
        batch_op.drop_index(batch_op.f('ix_kehoach_change_changed_by_id'))

    op.drop_table('kehoach_change')
    with op.batch_alter_table('kehoach_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kehoach_task_plan_id'))

    op.drop_table('kehoach_task')
    with op.batch_alter_table('kehoach_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kehoach_plan_commune_id'))

    op.drop_table('kehoach_plan')

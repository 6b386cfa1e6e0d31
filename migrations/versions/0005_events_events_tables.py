"""Events plugin: events, their courses, registrations.

Revision ID: 0005_events
Revises: 0004_certificates
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005_events'
down_revision: str | Sequence[str] | None = '0004_certificates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('place_text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('registration_opens_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('registration_closes_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('events_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_event_commune_id'), ['commune_id'], unique=False)

    op.create_table('events_event_course',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['events_event.id'], ),
    sa.PrimaryKeyConstraint('event_id', 'course_id')
    )
    op.create_table('events_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_folded', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('checkin_nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['events_event.id'], ),
    sa.ForeignKeyConstraint(['registered_by_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['core_place.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'phone'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('events_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_registration_checked_in_at'), ['checked_in_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_registration_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_registration_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_registration_user_id'))
        batch_op.drop_index(batch_op.f('ix_events_registration_event_id'))
        batch_op.drop_index(batch_op.f('ix_events_registration_checked_in_at'))

    op.drop_table('events_registration')
    op.drop_table('events_event_course')
    with op.batch_alter_table('events_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_event_commune_id'))

    op.drop_table('events_event')

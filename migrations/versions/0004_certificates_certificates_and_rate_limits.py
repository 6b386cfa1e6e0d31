"""Certificates plugin: certificates and their audit trail; core: rate-limit buckets.

Revision ID: 0004_certificates
Revises: 0003_quiz
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004_certificates'
down_revision: str | Sequence[str] | None = '0003_quiz'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_rate_bucket',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('window_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start')
    )
    with op.batch_alter_table('core_rate_bucket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_rate_bucket_window_start'), ['window_start'], unique=False)

    op.create_table('certificates_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('learner_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('course_slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('course_title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('commune_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('province_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('credential', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], ),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], ),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['certificates_certificate.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_certificate_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_certificate_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_certificate_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_certificate_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_certificates_valid', ['user_id', 'course_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('certificates_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], ),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates_certificate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certificates_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_audit_certificate_id'), ['certificate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('certificates_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_audit_certificate_id'))

    op.drop_table('certificates_audit')
    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_valid', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_certificates_certificate_user_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_certificate_issued_at'))
        batch_op.drop_index(batch_op.f('ix_certificates_certificate_course_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_certificate_commune_id'))

    op.drop_table('certificates_certificate')
    with op.batch_alter_table('core_rate_bucket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_rate_bucket_window_start'))

    op.drop_table('core_rate_bucket')

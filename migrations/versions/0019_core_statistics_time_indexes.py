"""Core, certificates, events: indexes on the times the statistics of today count from

Revision ID: 0019_core
Revises: 0018_core
Create Date: 2026-12-02 04:17:29.237861
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0019_core'
down_revision: str | Sequence[str] | None = '0018_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_certificate_revoked_at'), ['revoked_at'], unique=False)

    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_user_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('events_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_registration_registered_at'), ['registered_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_registration_registered_at'))

    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_user_created_at'))

    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_certificate_revoked_at'))


"""Certificates plugin: each certificate's index in its issuer's Bitstring Status List.

Certificates issued before this revision keep their credential as issued and get no index
here: signing needs the installation's key and address, which a migration does not have. The
first time such a credential is published it is signed once more, with a random index and a
status entry (services.published_credential).

Revision ID: 0014_certificates
Revises: 0013_courses
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_certificates'
down_revision: str | Sequence[str] | None = '0013_courses'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_index', sa.Integer(), nullable=True))
        batch_op.create_index('uq_certificates_status_index', ['status_index'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('certificates_certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_status_index')
        batch_op.drop_column('status_index')

"""Core: uploaded media (images now, lesson audio next), named by the SHA-256 of their content

Revision ID: 0015_core
Revises: 0014_certificates
Create Date: 2026-12-02 00:50:12.743196
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015_core'
down_revision: str | Sequence[str] | None = '0014_certificates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('core_media',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('image_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('core_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_media_image_key'), ['image_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_media_image_key'))

    op.drop_table('core_media')

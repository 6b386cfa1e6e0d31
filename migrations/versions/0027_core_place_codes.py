"""Core: official codes of provinces and communes (the national list of 2025)

Revision ID: 0027_core
Revises: 0026_courses
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0027_core'
down_revision: str | Sequence[str] | None = '0026_courses'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('core_place') as batch:
        batch.add_column(sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.create_index('ix_core_place_kind_code', ['kind', 'code'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('core_place') as batch:
        batch.drop_index('ix_core_place_kind_code')
        batch.drop_column('code')

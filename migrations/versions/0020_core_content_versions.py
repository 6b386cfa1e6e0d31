"""Core: versions of what workers keep in memory (the village pickers)

Revision ID: 0020_core
Revises: 0019_core
Create Date: 2026-12-02 07:05:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0020_core'
down_revision: str | Sequence[str] | None = '0019_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        'core_content_version',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    # A version from the start: without one the pickers would be read from the database every time.
    op.bulk_insert(table, [{'name': 'places', 'version': secrets.randbits(31)}])


def downgrade() -> None:
    op.drop_table('core_content_version')

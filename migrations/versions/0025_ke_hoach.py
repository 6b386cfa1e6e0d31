"""Kế hoạch

Revision ID: 0025_ke_hoach
Revises: 0024_mo_hinh
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

revision: str = '0025_ke_hoach'
down_revision: str | Sequence[str] | None = '0024_mo_hinh'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

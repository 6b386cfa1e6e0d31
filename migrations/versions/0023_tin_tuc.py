"""Tin tức

Revision ID: 0023_tin_tuc
Revises: 0022_hoi_dap
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

revision: str = '0023_tin_tuc'
down_revision: str | Sequence[str] | None = '0022_hoi_dap'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

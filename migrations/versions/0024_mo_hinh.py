"""Mô hình tiêu biểu

Revision ID: 0024_mo_hinh
Revises: 0023_tin_tuc
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

revision: str = '0024_mo_hinh'
down_revision: str | Sequence[str] | None = '0023_tin_tuc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

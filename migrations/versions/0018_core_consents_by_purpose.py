"""Core: consent by purpose (a ledger with refusals and withdrawals); data requests to restrict
or object, with processors and extensions; statistics opt-outs

Revision ID: 0018_core
Revises: 0017_core
Create Date: 2026-12-02 02:59:53.137148
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018_core'
down_revision: str | Sequence[str] | None = '0017_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stats_opted_out',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('core_consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('core_data_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('processor', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('extended_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('extended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('extended_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_core_data_request_extended_by_id_core_user', 'core_user', ['extended_by_id'], ['id'])

    # The first purposes had other names; the text they were given under stays as it was.
    op.execute("UPDATE core_consent SET purpose = 'learning' WHERE purpose = 'account'")
    op.execute("UPDATE core_consent SET purpose = 'events' WHERE purpose = 'event'")



def downgrade() -> None:
    with op.batch_alter_table('core_data_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_core_data_request_extended_by_id_core_user', type_='foreignkey')
        batch_op.drop_column('extended_by_id')
        batch_op.drop_column('extended_at')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extended_days')
        batch_op.drop_column('processor')
        batch_op.drop_column('purpose')

    # Refusals and withdrawals cannot be told apart from consent without the column: they go.
    op.execute("DELETE FROM core_consent WHERE granted = false")
    op.execute("UPDATE core_consent SET purpose = 'account' WHERE purpose = 'learning'")
    op.execute("UPDATE core_consent SET purpose = 'event' WHERE purpose = 'events'")
    with op.batch_alter_table('core_consent', schema=None) as batch_op:
        batch_op.drop_column('granted')

    op.drop_table('stats_opted_out')

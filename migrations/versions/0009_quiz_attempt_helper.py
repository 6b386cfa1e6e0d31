"""quiz: who helped with an attempt (quiz_attempt.helper_id), replacing teams_assisted_attempt

Revision ID: 0009_quiz
Revises: 0008_core
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_quiz'
down_revision: str | Sequence[str] | None = '0008_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a nullable column with its REFERENCES in place; a batch rebuild would
        # drop quiz_attempt while teams_assisted_attempt still points at its rows.
        op.execute('ALTER TABLE quiz_attempt ADD COLUMN helper_id INTEGER REFERENCES core_user (id)')
    else:
        op.add_column('quiz_attempt', sa.Column('helper_id', sa.Integer(), nullable=True))
        op.create_foreign_key('quiz_attempt_helper_id_fkey', 'quiz_attempt', 'core_user',
                              ['helper_id'], ['id'])
    op.execute('UPDATE quiz_attempt SET helper_id = (SELECT member_id FROM teams_assisted_attempt '
               'WHERE teams_assisted_attempt.attempt_id = quiz_attempt.id) '
               'WHERE id IN (SELECT attempt_id FROM teams_assisted_attempt)')
    op.drop_table('teams_assisted_attempt')


def downgrade() -> None:
    # Kept aside for the old table, which can only be made once the column is gone.
    helped = op.get_bind().execute(sa.text('SELECT id, helper_id FROM quiz_attempt WHERE helper_id IS NOT NULL')).all()
    # Dropped first, while nothing refers to quiz_attempt: SQLite rebuilds the table
    # (its partial index included), and dropping the old one would break such references.
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_column('helper_id')
    assisted = op.create_table('teams_assisted_attempt',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['core_user.id'], ),
    sa.PrimaryKeyConstraint('attempt_id')
    )
    if helped:
        op.bulk_insert(assisted, [{'attempt_id': row.id, 'member_id': row.helper_id} for row in helped])

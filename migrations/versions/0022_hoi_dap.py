"""Hỏi đáp: FAQ entries, the passages the assistant answers from, and their BM25 index

Revision ID: 0022_hoi_dap
Revises: 0021_courses
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0022_hoi_dap'
down_revision: str | Sequence[str] | None = '0021_courses'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hoidap_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('topic_title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('also_asked', sa.JSON(), nullable=False),
    sa.Column('answer_md', sa.Text(), nullable=False),
    sa.Column('answer_html', sa.Text(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('see_also', sa.JSON(), nullable=False),
    sa.Column('reviewed', sa.Date(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], name='fk_hoidap_entry_commune_id_core_place'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('hoidap_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hoidap_entry_commune_id'), ['commune_id'], unique=False)

    op.create_table('hoidap_passage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('snippet', sa.Text(), nullable=False),
    sa.Column('reviewed', sa.Date(), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('text_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hoidap_passage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hoidap_passage_commune_id'), ['commune_id'], unique=False)

    op.create_table('hoidap_posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('passage_id', sa.Integer(), nullable=False),
    sa.Column('tf', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['passage_id'], ['hoidap_passage.id'],
                            name='fk_hoidap_posting_passage_id_hoidap_passage'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hoidap_posting', schema=None) as batch_op:
        batch_op.create_index('ix_hoidap_posting_term', ['term', 'passage_id'], unique=False)

    op.create_table('hoidap_embedding',
    sa.Column('text_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('text_hash')
    )
    op.create_table('hoidap_word',
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('df', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('term')
    )
    op.create_table('hoidap_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('passages', sa.Integer(), nullable=False),
    sa.Column('average_length', sa.Float(), nullable=False),
    sa.Column('built_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )

    op.create_table('hoidap_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('folded', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('asker_id', sa.Integer(), nullable=True),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['core_user.id'], name='fk_hoidap_question_answered_by_id_core_user'),
    sa.ForeignKeyConstraint(['asker_id'], ['core_user.id'], name='fk_hoidap_question_asker_id_core_user'),
    sa.ForeignKeyConstraint(['commune_id'], ['core_place.id'], name='fk_hoidap_question_commune_id_core_place'),
    sa.ForeignKeyConstraint(['entry_id'], ['hoidap_entry.id'], name='fk_hoidap_question_entry_id_hoidap_entry'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('hoidap_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hoidap_question_asked_at'), ['asked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hoidap_question_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hoidap_question_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hoidap_question_folded'), ['folded'], unique=False)


def downgrade() -> None:
    op.drop_table('hoidap_question')
    op.drop_table('hoidap_index_state')
    op.drop_table('hoidap_word')
    op.drop_table('hoidap_embedding')
    with op.batch_alter_table('hoidap_posting', schema=None) as batch_op:
        batch_op.drop_index('ix_hoidap_posting_term')
    op.drop_table('hoidap_posting')
    with op.batch_alter_table('hoidap_passage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hoidap_passage_commune_id'))
    op.drop_table('hoidap_passage')
    with op.batch_alter_table('hoidap_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hoidap_entry_commune_id'))
    op.drop_table('hoidap_entry')

"""the results store's manifest

``result_files``: the columnar results files committed to each job (see
``optimizer_app.domain.results_file``). Every combination's results live in those files; task
rows remain only for Top-N entries and failed combinations. Existing task rows of every job are
moved into one file per job, and the rows that link nothing are dropped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:40:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema, then move existing results into the store."""
    op.create_table(
        'result_files',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('job_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_result_files_job_id', 'result_files', ['job_id'], unique=False)
    from optimizer_app.persistence.results_migration import move_task_rows_to_store

    move_task_rows_to_store(op.get_bind())


def downgrade() -> None:
    """Downgrade schema (results moved into the store stay there)."""
    op.drop_index('ix_result_files_job_id', table_name='result_files')
    op.drop_table('result_files')

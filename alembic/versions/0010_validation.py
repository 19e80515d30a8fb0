"""validation of jobs: hold-out and walk-forward

``optimization_jobs.validation`` (the job's validation settings, JSON, null for none),
``validation_state`` (null for none, "pending" until the out-of-sample results are stored,
then "done" or "failed") and ``validation_result`` (those results, JSON).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('validation_state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('validation_result', sa.JSON(), nullable=True))
        batch_op.create_index('ix_optimization_jobs_validation_state', ['validation_state'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_optimization_jobs_validation_state')
        batch_op.drop_column('validation_result')
        batch_op.drop_column('validation_state')
        batch_op.drop_column('validation')

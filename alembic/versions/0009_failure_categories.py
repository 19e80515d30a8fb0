"""failure categories and re-runs of some combinations

``optimization_tasks.error_category`` (data | strategy | resource | lost | timeout) says why a
failed task failed; tasks that failed before have none. ``optimization_jobs.combination_subset``
holds the grid indices a job runs when it re-runs only some of its source's combinations
(compressed, see ``domain.subset``), and ``rerun`` what it re-runs ("failed").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('optimization_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_category', sa.String(length=20), nullable=True))
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('combination_subset', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('rerun', sa.String(length=20), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.drop_column('rerun')
        batch_op.drop_column('combination_subset')
    with op.batch_alter_table('optimization_tasks', schema=None) as batch_op:
        batch_op.drop_column('error_category')

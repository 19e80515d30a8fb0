"""drop the (job, score) index of tasks

Leaderboard pages order a job's tasks by ``score IS NULL, score, index``, an order this index
cannot give: the database read the job's rows through it and sorted them anyway (more slowly
than through the (job, index) key, whose rows lie together), while keeping it up to date was
half the cost of writing a chunk's task rows, because scores arrive in random order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:50:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('optimization_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_job_score')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('optimization_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_job_score', ['job_id', 'score'], unique=False)

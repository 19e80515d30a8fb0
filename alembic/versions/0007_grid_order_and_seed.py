"""grid order and seed of jobs

``optimization_jobs.grid_order`` ("shuffled" or "sequential") and ``seed``: the combinations of a
shuffled job run in a seeded pseudo-random order. Jobs made before ran in index order, so they
are "sequential" (without a seed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 22:40:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('grid_order', sa.String(length=20), nullable=False,
                      server_default='sequential')
        )
        batch_op.add_column(sa.Column('seed', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.drop_column('seed')
        batch_op.drop_column('grid_order')

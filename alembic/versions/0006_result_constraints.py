"""result constraints on jobs

``optimization_jobs.constraints``: a JSON list of ``{metric, op, value}``; a finished
combination that fails one is stored and counted but never ranked. Existing jobs have none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 22:45:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('constraints', sa.JSON(), nullable=False, server_default='[]')
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('optimization_jobs', schema=None) as batch_op:
        batch_op.drop_column('constraints')

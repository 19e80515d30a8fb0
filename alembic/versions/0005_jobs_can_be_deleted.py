"""jobs can be deleted: a re-run keeps the id of a deleted source job

``optimization_jobs.source_job_id`` loses its foreign key: deleting a job leaves its re-runs
pointing at an id that no longer exists (their ``sourceJobName`` is then null), as the
contract says. The column and its index stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:15:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_SQLITE_NAME = "fk_optimization_jobs_source_job_id_optimization_jobs"


def _source_fk_name() -> str:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return _SQLITE_NAME
    for fk in sa.inspect(bind).get_foreign_keys("optimization_jobs"):
        if fk["constrained_columns"] == ["source_job_id"] and fk.get("name"):
            return str(fk["name"])
    return "optimization_jobs_source_job_id_fkey"


def upgrade() -> None:
    """Upgrade schema."""
    name = _source_fk_name()
    with op.batch_alter_table('optimization_jobs', naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(name, type_='foreignkey')


def downgrade() -> None:
    """Downgrade schema (re-runs of deleted jobs lose their source id)."""
    op.execute(
        "UPDATE optimization_jobs SET source_job_id = NULL WHERE source_job_id IS NOT NULL "
        "AND source_job_id NOT IN (SELECT id FROM optimization_jobs)"
    )
    with op.batch_alter_table('optimization_jobs', naming_convention=_NAMING) as batch_op:
        batch_op.create_foreign_key(
            'fk_optimization_jobs_source_job_id_optimization_jobs',
            'optimization_jobs', ['source_job_id'], ['id'],
        )

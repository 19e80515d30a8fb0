"""quotas and usage

``usage_records``: the usage ledger, one row per submitted job, kept when the job is deleted
(combinations asked for and run, compute seconds, bytes stored). ``user_quotas``: per-user
quotas set by an admin (a null field: the deployment's default). Jobs that exist already are
entered in the ledger as they stand.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:30:00.000000

"""
import json
import uuid
from datetime import datetime
from typing import Any, Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROW_BYTES = 300  # the ledger's estimate of one stored combination (services.usage.ROW_BYTES)
TERMINAL = ('succeeded', 'failed', 'early-stopped', 'canceled')


def _summary(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        'SELECT j.id, j.owner_id, j.strategy, d.rows, j.summary, j.status, j.exec_seconds, '
        'j.created_at, j.finished_at FROM optimization_jobs j '
        'JOIN datasets d ON d.id = j.dataset_id'
    )).fetchall()
    records = sa.table(
        'usage_records', sa.column('job_id', sa.Uuid()), sa.column('owner_id', sa.Uuid()),
        sa.column('strategy', sa.String()), sa.column('dataset_rows', sa.Integer()),
        sa.column('combinations', sa.Integer()), sa.column('combinations_run', sa.Integer()),
        sa.column('compute_seconds', sa.Float()), sa.column('stored_bytes', sa.BigInteger()),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('ended_at', sa.DateTime(timezone=True)),
    )
    values = []
    for job_id, owner_id, strategy, dataset_rows, summary, status, exec_seconds, created, ended \
            in rows:
        summary = _summary(summary)
        total = int(summary.get('total') or 0)
        done = int(summary.get('finished') or 0) + int(summary.get('failed') or 0)
        over = status in TERMINAL
        values.append({
            'job_id': _uuid(job_id), 'owner_id': _uuid(owner_id),
            'strategy': strategy, 'dataset_rows': int(dataset_rows or 0),
            'combinations': total, 'combinations_run': done if over else None,
            'compute_seconds': float(exec_seconds or 0.0),
            'stored_bytes': (done if over else total) * ROW_BYTES,
            'created_at': _when(created), 'ended_at': _when(ended) if over else None,
        })
    if values:
        op.bulk_insert(records, values)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('usage_records',
    sa.Column('job_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('dataset_rows', sa.Integer(), nullable=False),
    sa.Column('combinations', sa.Integer(), nullable=False),
    sa.Column('combinations_run', sa.Integer(), nullable=True),
    sa.Column('compute_seconds', sa.Float(), nullable=False),
    sa.Column('stored_bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('job_id')
    )
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.create_index('ix_usage_owner_created', ['owner_id', 'created_at'], unique=False)
        batch_op.create_index('ix_usage_strategy_ended', ['strategy', 'ended_at'], unique=False)

    op.create_table('user_quotas',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('live_jobs', sa.Integer(), nullable=True),
    sa.Column('combinations_per_day', sa.BigInteger(), nullable=True),
    sa.Column('stored_bytes', sa.BigInteger(), nullable=True),
    sa.Column('worker_share', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    _backfill()


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('user_quotas')
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_strategy_ended')
        batch_op.drop_index('ix_usage_owner_created')
    op.drop_table('usage_records')

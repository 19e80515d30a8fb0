"""Moving task rows written before the results store into it (migration 0011).

For every job: its task rows, read in index order ``BATCH_ROWS`` at a time, become results
files (one per batch, committed in ``result_files``; the orchestrator compacts a finished
job's files into one); then the rows that link nothing — succeeded combinations outside the
Top-N — are deleted. Top-N rows (they link a result summary) and failed rows (their error)
stay. Runs inside the migration's transaction, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa

from optimizer_app.domain.jsontext import stored_metrics
from optimizer_app.domain.results_file import chunk_table, write_table
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.persistence.results_store import job_dir

BATCH_ROWS = 100_000

_tasks = sa.table(
    "optimization_tasks",
    sa.column("job_id", sa.Uuid()), sa.column("index", sa.Integer()),
    sa.column("params", sa.JSON()), sa.column("status", sa.String()),
    sa.column("score", sa.Float()), sa.column("metrics", sa.JSON()),
    sa.column("result_summary_id", sa.Uuid()),
)
_files = sa.table(
    "result_files",
    sa.column("id", sa.Uuid()), sa.column("job_id", sa.Uuid()), sa.column("name", sa.String()),
    sa.column("kind", sa.String()), sa.column("rows", sa.Integer()),
    sa.column("failed", sa.Integer()), sa.column("bytes", sa.BigInteger()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _write_batch(job_id: uuid.UUID, rows: list[Any]) -> tuple[str, int, int, int]:
    indices = np.asarray([r.idx for r in rows], dtype=np.int64)
    params_rows = [_json(r.params) or {} for r in rows]
    names = list(params_rows[0]) if params_rows else []
    params = {name: np.asarray([p.get(name) for p in params_rows]) for name in names}
    succeeded = [r.status == "succeeded" for r in rows]
    failed = len(rows) - sum(succeeded)
    if failed == len(rows):
        table = chunk_table(indices=indices, params=params, scores=None, passes=None,
                            metrics=None)
    else:
        metric_rows = [stored_metrics(_json(r.metrics)) or {} for r in rows]
        metrics = {
            key: np.asarray([np.nan if m.get(key) is None else m[key] for m in metric_rows],
                            dtype=np.float64)
            for key in METRIC_KEYS
        }
        metrics["trades"] = np.nan_to_num(metrics["trades"]).astype(np.int64)
        scores = np.asarray([np.nan if r.score is None else r.score for r in rows],
                            dtype=np.float64)
        table = chunk_table(indices=indices, params=params, scores=scores,
                            passes=~np.isnan(scores), metrics=metrics)
        if failed:  # a batch mixing both: mark the failed rows
            import pyarrow as pa
            import pyarrow.compute as pc

            failed_at = pa.array(np.isin(table.column("index").to_numpy(),
                                         indices[~np.asarray(succeeded)]))
            status = pc.if_else(failed_at, pa.scalar(1, pa.int8()), table.column("status"))
            table = table.set_column(table.schema.get_field_index("status"), "status", status)
    name, size = write_table(table, job_dir(job_id))
    return name, len(rows), failed, size


def move_task_rows_to_store(bind: sa.engine.Connection) -> None:
    job_ids = bind.execute(sa.select(_tasks.c.job_id).distinct()).scalars().all()
    for job_id in job_ids:
        last = -1
        while True:
            rows = bind.execute(
                sa.select(_tasks.c.index.label("idx"), _tasks.c.params, _tasks.c.status, _tasks.c.score,
                          _tasks.c.metrics)
                .where(_tasks.c.job_id == job_id, _tasks.c.index > last)
                .order_by(_tasks.c.index).limit(BATCH_ROWS)
            ).all()
            if not rows:
                break
            last = rows[-1].idx
            name, count, failed, size = _write_batch(job_id, list(rows))
            bind.execute(sa.insert(_files).values(
                id=uuid.uuid4(), job_id=job_id, name=name, kind="chunk", rows=count,
                failed=failed, bytes=size, created_at=datetime.now(UTC),
            ))
        bind.execute(sa.delete(_tasks).where(
            _tasks.c.job_id == job_id, _tasks.c.status == "succeeded",
            _tasks.c.result_summary_id.is_(None),
        ))

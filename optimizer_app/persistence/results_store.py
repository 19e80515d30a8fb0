"""The results store: every combination's results as columnar files, one folder per job.

Files (``domain.results_file``) are written by the workers, committed by the orchestrator
(a ``ResultFile`` row in the same transaction as the chunk's summary), read here with
DuckDB, an embedded analytical engine that reads Parquet directly, or with pyarrow where a
page is a plain slice of a file. Memory stays bounded whatever the job size: pages are
computed by the engine (top-k) and only their rows reach Python.

A finished job is compacted into one file sorted best first (score in the job's direction,
rows without a score last, then index), so that a leaderboard page at any offset reads
only the row group that holds it.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session, col, delete, select

from optimizer_app.core.config import settings
from optimizer_app.domain.results_file import STATUS_FAILED, STATUS_SUCCEEDED, param_column
from optimizer_app.domain.stats import INTEGER_METRICS, METRIC_KEYS
from optimizer_app.persistence.models import ResultFile, TaskStatus

__all__ = [
    "JobResults", "add_file", "best_by_pair", "compact_files", "job_dir", "job_results",
    "page", "remove_job", "remove_orphans", "row_at", "stored_indices",
]

ENGINE_THREADS = 2
ENGINE_MEMORY = "256MB"
_STATUS_NAMES = {STATUS_SUCCEEDED: TaskStatus.SUCCEEDED.value, STATUS_FAILED: TaskStatus.FAILED.value}
_STATUS_CODES = {name: code for code, name in _STATUS_NAMES.items()}


def root() -> Path:
    return settings.resolved_results_dir


def job_dir(job_id: uuid.UUID) -> Path:
    return root() / job_id.hex


# -- the manifest (SQL) ------------------------------------------------------------------------


def add_file(
    *, session: Session, job_id: uuid.UUID, name: str, rows: int, failed: int, size: int,
    kind: str = "chunk",
) -> None:
    session.add(ResultFile(job_id=job_id, name=name, kind=kind, rows=rows, failed=failed,
                           bytes=size))


@dataclass(frozen=True)
class JobResults:
    """The committed files of one job, as read from the manifest."""

    job_id: uuid.UUID
    names: tuple[str, ...]
    compacted: bool
    rows: int
    failed: int
    bytes: int

    @property
    def paths(self) -> list[str]:
        folder = job_dir(self.job_id)
        return [str(folder / name) for name in self.names]

    def count(self, status: str | None) -> int:
        if status is None:
            return self.rows
        return self.failed if status == TaskStatus.FAILED.value else self.rows - self.failed


def job_results(*, session: Session, job_id: uuid.UUID) -> JobResults:
    files = session.exec(
        select(ResultFile).where(ResultFile.job_id == job_id).order_by(col(ResultFile.created_at))
    ).all()
    return JobResults(
        job_id=job_id,
        names=tuple(f.name for f in files),
        compacted=len(files) == 1 and files[0].kind == "job",
        rows=sum(f.rows for f in files),
        failed=sum(f.failed for f in files),
        bytes=sum(f.bytes for f in files),
    )


def stored_bytes(*, session: Session, job_ids: Sequence[uuid.UUID]) -> int:
    if not job_ids:
        return 0
    sizes = session.exec(
        select(ResultFile.bytes).where(col(ResultFile.job_id).in_(list(job_ids)))
    ).all()
    return int(sum(sizes))


# -- reading -----------------------------------------------------------------------------------

_local = threading.local()
_engine_lock = threading.Lock()
_engine: duckdb.DuckDBPyConnection | None = None


def _cursor() -> duckdb.DuckDBPyConnection:
    """A DuckDB cursor of this thread (cursors of one in-memory engine, bounded threads and
    memory)."""
    global _engine
    cursor = getattr(_local, "cursor", None)
    if cursor is None:
        with _engine_lock:
            if _engine is None:
                _engine = duckdb.connect(config={"threads": ENGINE_THREADS,
                                                 "memory_limit": ENGINE_MEMORY})
            cursor = _engine.cursor()
        _local.cursor = cursor
    return cursor


def _files_sql(paths: Sequence[str]) -> str:
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}])"


def stored_indices(paths: Sequence[str]) -> tuple[np.ndarray, int, int]:
    """Every combination index in ``paths``, and how many succeeded and failed."""
    parts: list[np.ndarray] = []
    failed = 0
    for path in paths:
        table = pq.read_table(path, columns=["index", "status"])
        parts.append(table.column("index").to_numpy())
        failed += int(np.count_nonzero(table.column("status").to_numpy() == STATUS_FAILED))
    indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return indices, len(indices) - failed, failed


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Plain rows: ``index``, ``status`` (name), ``score``, ``passes``, ``params`` and
    ``metrics`` (None for a failed row)."""
    data = table.to_pydict()
    names = [c for c in table.column_names if c.startswith("p_")]
    rows = []
    for k in range(table.num_rows):
        status = _STATUS_NAMES.get(data["status"][k], TaskStatus.FAILED.value)
        metrics = None
        if status == TaskStatus.SUCCEEDED.value:
            metrics = {key: _metric(key, data[key][k]) for key in METRIC_KEYS if key in data}
        rows.append({
            "index": data["index"][k],
            "status": status,
            "score": data["score"][k],
            "passes": data["passes"][k],
            "params": {name[2:]: data[name][k] for name in names},
            "metrics": metrics,
        })
    return rows


def _metric(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in INTEGER_METRICS:
        return int(value)
    # stored as float32: seven significant digits, shown without float32's noise
    return float(f"{value:.7g}")


SortKey = Literal["score", "index"]


def page(
    results: JobResults,
    *,
    sort: SortKey,
    descending: bool,
    offset: int,
    limit: int,
    status: str | None = None,
    best_first_descending: bool = True,
) -> list[dict[str, Any]]:
    """One page of a job's rows. Scores sort with rows without a score last, ties by index.
    ``best_first_descending`` is the job's direction (the compacted file's order)."""
    if not results.names or limit <= 0:
        return []
    if (results.compacted and sort == "score" and status is None
            and descending == best_first_descending):
        return _slice(results.paths[0], offset, limit)
    where = "" if status is None else f"WHERE status = {_STATUS_CODES[status]}"
    if sort == "score":
        order = f"score {'DESC' if descending else 'ASC'} NULLS LAST, index ASC"
    else:
        order = f"index {'DESC' if descending else 'ASC'}"
    query = (f"SELECT * FROM {_files_sql(results.paths)} {where} ORDER BY {order} "
             f"LIMIT {int(limit)} OFFSET {int(offset)}")
    return _rows(_cursor().sql(query).to_arrow_table())


def _slice(path: str, offset: int, limit: int) -> list[dict[str, Any]]:
    """Rows ``offset .. offset+limit`` of one file, reading only the row groups holding them."""
    handle = pq.ParquetFile(path)
    meta = handle.metadata
    groups, first, start = [], None, 0
    for g in range(meta.num_row_groups):
        size = meta.row_group(g).num_rows
        if start + size > offset and start < offset + limit:
            groups.append(g)
            first = start if first is None else first
        start += size
    if not groups:
        return []
    table = handle.read_row_groups(groups)
    return _rows(table.slice(offset - (first or 0), limit))


def row_at(results: JobResults, index: int) -> dict[str, Any] | None:
    """The stored row of combination ``index``, or None."""
    if not results.names:
        return None
    query = f"SELECT * FROM {_files_sql(results.paths)} WHERE index = {int(index)} LIMIT 1"
    rows = _rows(_cursor().sql(query).to_arrow_table())
    return rows[0] if rows else None


def best_by_pair(
    results: JobResults, x: str, y: str | None, *, maximize: bool
) -> list[dict[str, Any]]:
    """For each value pair of parameters ``x`` and ``y`` (or each value of ``x``), the best
    score over every ranked combination and the index holding it (ties: lowest index)."""
    if not results.names:
        return []
    keys = [param_column(x)] + ([param_column(y)] if y else [])
    group = ", ".join(f'"{k}"' for k in keys)
    # ties: the lowest index (compared as a struct: score first, then the index)
    if maximize:
        best, holder = "max(score)", "arg_max(index, row(score, -index))"
    else:
        best, holder = "min(score)", "arg_min(index, row(score, index))"
    query = (f"SELECT {group}, {best} AS score, {holder} AS index "
             f"FROM {_files_sql(results.paths)} WHERE score IS NOT NULL GROUP BY {group}")
    table = _cursor().sql(query).to_arrow_table()
    data = table.to_pydict()
    return [
        {"x": data[keys[0]][k], "y": data[keys[1]][k] if y else None,
         "score": data["score"][k], "index": data["index"][k]}
        for k in range(table.num_rows)
    ]


# -- compaction and removal (the orchestrator) -------------------------------------------------


def compact_files(results: JobResults, *, descending: bool) -> tuple[str, int, int, int]:
    """Write the rows of every file of ``results`` as one new file sorted best first; return
    (name, rows, failed, bytes). The caller commits it and then removes the old files."""
    folder = job_dir(results.job_id)
    name = f"job-{uuid.uuid4().hex}.parquet"
    partial = folder / f".{name}.partial"
    order = f"score {'DESC' if descending else 'ASC'} NULLS LAST, index ASC"
    cursor = _cursor()
    try:
        cursor.execute(
            f"COPY (SELECT * FROM {_files_sql(results.paths)} ORDER BY {order}) TO "
            f"'{partial}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536, "
            f"PARQUET_VERSION v2)"
        ).fetchall()
        partial.replace(folder / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    final = folder / name
    meta = pq.ParquetFile(final).metadata
    failed = int(cursor.execute(
        f"SELECT count(*) FROM read_parquet('{final}') WHERE status = {STATUS_FAILED}"
    ).fetchall()[0][0])
    return name, meta.num_rows, failed, final.stat().st_size


def replace_files(
    *, session: Session, job_id: uuid.UUID, old: Sequence[str], name: str, rows: int,
    failed: int, size: int,
) -> None:
    """Swap a job's committed files for its compacted one (in the caller's transaction)."""
    session.exec(delete(ResultFile).where(  # type: ignore[call-overload]
        col(ResultFile.job_id) == job_id, col(ResultFile.name).in_(list(old))))
    add_file(session=session, job_id=job_id, name=name, rows=rows, failed=failed, size=size,
             kind="job")


def remove_orphans(job_id: uuid.UUID, keep: Sequence[str]) -> int:
    """Delete the job's files that are not committed (a chunk discarded, a crash before its
    commit, a compaction replaced them). Returns how many."""
    folder = job_dir(job_id)
    if not folder.is_dir():
        return 0
    kept = set(keep)
    removed = 0
    for path in folder.iterdir():
        if path.name not in kept:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def forget_job(*, session: Session, job_id: uuid.UUID) -> None:
    session.exec(delete(ResultFile).where(col(ResultFile.job_id) == job_id))  # type: ignore[call-overload]


def remove_job(job_id: uuid.UUID) -> None:
    shutil.rmtree(job_dir(job_id), ignore_errors=True)

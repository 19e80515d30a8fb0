"""Query functions for tasks and their result summaries.

Results are written in bulk and idempotently: a row whose (job, index) is already stored is
skipped (``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike), so a chunk
that is delivered twice never counts a combination twice."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Table, delete
from sqlmodel import Session, col, func, select

from optimizer_app.core.memo import SameSource
from optimizer_app.domain.grid import Grid
from optimizer_app.persistence import results_store
from optimizer_app.persistence.models import OptimizationTask, ResultSummary

TASKS: Table = OptimizationTask.__table__  # type: ignore[attr-defined]
RESULTS: Table = ResultSummary.__table__  # type: ignore[attr-defined]

# The bulk write path takes pre-encoded values: ids as 32-digit hex (what SQLAlchemy stores
# for a UUID on SQLite, and a form PostgreSQL's uuid type accepts), JSON as text and
# timestamps as text (see ``timestamp_text``), and hands them to the driver in one call per
# table (only Top-N entries and failed combinations are rows; every result is in the results
# store). A chunk's task rows differ only in ``ROW_COLUMNS``; the ``SHARED_COLUMNS`` values
# are the same for all of them and are kept apart until they are bound with each row.
ROW_COLUMNS = ("id", "index", "params", "score", "metrics", "result_summary_id")
SHARED_COLUMNS = (
    "job_id", "status", "attempts", "error", "error_category", "started_at", "finished_at",
)
TASK_COLUMNS = ROW_COLUMNS + SHARED_COLUMNS
RESULT_COLUMNS = ("id", "task_id", "metrics", "artifacts")


@dataclass
class TaskBatch:
    """Task rows of one chunk: ``rows`` in ``ROW_COLUMNS`` order, ``shared`` the values of
    ``SHARED_COLUMNS`` common to all of them."""

    shared: tuple[Any, ...]
    rows: list[tuple[Any, ...]]

    def __len__(self) -> int:
        return len(self.rows)

    def row_dict(self, k: int) -> dict[str, Any]:
        """The ``k``-th row with every column, by name."""
        return dict(zip(TASK_COLUMNS, self.rows[k] + self.shared, strict=True))


def result_id_for(task_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(task_id, "result")


def timestamp_text(value: datetime, *, dialect: str) -> str:
    """A UTC timestamp as the bulk path binds it: SQLAlchemy's SQLite storage format, or ISO
    8601 with offset for PostgreSQL."""
    value = value.astimezone(UTC)
    if dialect == "postgresql":
        return value.isoformat()
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _bulk_insert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    shared: dict[str, Any] | None = None,
) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` of many rows through the driver, inside the
    session's transaction (many rows per statement: ``_sqlite_insert_blocks`` on SQLite,
    ``execute_values`` on PostgreSQL);
    ``shared`` holds columns whose value is the same in every row."""
    if not rows:
        return
    shared = shared or {}
    names = ", ".join(f'"{c}"' for c in (*columns, *shared))
    # The shared values are bound with every row. (On SQLite they were literals once: every
    # chunk's statement text was then new, its timestamps, and the driver keeps the last 128
    # statements of each connection prepared — megabytes of one-off statements.)
    common = tuple(shared.values())
    values = [row + common for row in rows] if common else rows
    cursor = session.connection().connection.cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            from psycopg2.extras import execute_values

            sql = f"INSERT INTO {table} ({names}) VALUES %s ON CONFLICT DO NOTHING"
            execute_values(cursor, sql, values, page_size=1000)
        else:
            marks = ", ".join(["?"] * (len(columns) + len(common)))
            _sqlite_insert_blocks(cursor, f"INSERT INTO {table} ({names}) VALUES", f"({marks})",
                                  values, width=len(columns) + len(common))
    finally:
        cursor.close()


SQLITE_ROWS_PER_STATEMENT = 100


def _sqlite_insert_blocks(cursor: Any, head: str, row: str, rows: Sequence[tuple[Any, ...]],
                          *, width: int) -> None:
    """The rows in statements of ``SQLITE_ROWS_PER_STATEMENT`` rows each (``VALUES (…),
    (…), …``): ~1/4 less time than one statement per row (``executemany``), which SQLite
    runs and resets row by row."""
    values = list(chain.from_iterable(rows))
    block = SQLITE_ROWS_PER_STATEMENT
    whole = len(rows) // block * block
    if whole:
        sql = f"{head} {','.join([row] * block)} ON CONFLICT DO NOTHING"
        for start in range(0, whole * width, block * width):
            cursor.execute(sql, values[start : start + block * width])
    if len(rows) > whole:
        sql = f"{head} {','.join([row] * (len(rows) - whole))} ON CONFLICT DO NOTHING"
        cursor.execute(sql, values[whole * width :])


def insert_tasks(*, session: Session, batch: TaskBatch) -> None:
    """Insert a chunk's task rows, skipping any already stored."""
    shared = dict(zip(SHARED_COLUMNS, batch.shared, strict=True))
    _bulk_insert(session, "optimization_tasks", ROW_COLUMNS, batch.rows, shared=shared)


def insert_results(*, session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert result-summary rows (tuples in ``RESULT_COLUMNS`` order), skipping any stored."""
    _bulk_insert(session, "result_summaries", RESULT_COLUMNS, rows)


def done_indices(*, session: Session, job_id: uuid.UUID) -> list[int]:
    """Every combination index of the job that has a stored task (finished or failed)."""
    stmt = select(OptimizationTask.index).where(OptimizationTask.job_id == job_id)
    return [int(i) for i in session.exec(stmt).all()]


def stored_indices(*, session: Session, job_id: uuid.UUID, indices: Sequence[int]) -> set[int]:
    """Which of ``indices`` (ascending) already have a stored task."""
    if not indices:
        return set()
    low, high = int(indices[0]), int(indices[-1])
    where: list[Any] = [col(OptimizationTask.job_id) == job_id]
    if high - low + 1 == len(indices):  # a contiguous chunk: a range scan of the unique index
        where += [col(OptimizationTask.index) >= low, col(OptimizationTask.index) <= high]
        stmt = select(OptimizationTask.index).where(*where)
        return {int(i) for i in session.exec(stmt).all()}
    found: set[int] = set()
    for start in range(0, len(indices), 10_000):
        part = [int(i) for i in indices[start : start + 10_000]]
        stmt = select(OptimizationTask.index).where(*where, col(OptimizationTask.index).in_(part))
        found.update(int(i) for i in session.exec(stmt).all())
    return found


def count_tasks(*, session: Session, job_id: uuid.UUID) -> dict[str, int]:
    """Stored tasks of a job by status, plus ``total`` and ``distinct`` (distinct indices)."""
    stmt = (
        select(OptimizationTask.status, func.count())
        .where(OptimizationTask.job_id == job_id)
        .group_by(OptimizationTask.status)
    )
    counts = {str(status): int(n) for status, n in session.exec(stmt).all()}
    counts["total"] = sum(counts.values())
    distinct = select(func.count(func.distinct(OptimizationTask.index))).where(
        OptimizationTask.job_id == job_id
    )
    counts["distinct"] = int(session.exec(distinct).one())
    return counts


def failure_counts(*, session: Session, job_id: uuid.UUID) -> dict[str, int]:
    """A job's stored failed tasks by category (those failed before categories existed are
    not counted)."""
    stmt = (
        select(OptimizationTask.error_category, func.count())
        .where(OptimizationTask.job_id == job_id, OptimizationTask.status == "failed",
               col(OptimizationTask.error_category).is_not(None))
        .group_by(OptimizationTask.error_category)
    )
    return {str(category): int(n) for category, n in session.exec(stmt).all()}


def failed_indices(*, session: Session, job_id: uuid.UUID) -> list[int]:
    """Every combination index of the job whose task failed, ascending."""
    stmt = (
        select(OptimizationTask.index)
        .where(OptimizationTask.job_id == job_id, OptimizationTask.status == "failed")
        .order_by(col(OptimizationTask.index))
    )
    return [int(i) for i in session.exec(stmt).all()]


def get_task_results(
    *, session: Session, job_id: uuid.UUID, indices: Sequence[int]
) -> list[tuple[OptimizationTask, ResultSummary | None]]:
    """Tasks with the given indices and their result summaries (None for a task without
    artifacts), in index order."""
    if not indices:
        return []
    stmt = (
        select(OptimizationTask, ResultSummary)
        .join(ResultSummary, col(ResultSummary.task_id) == col(OptimizationTask.id), isouter=True)
        .where(OptimizationTask.job_id == job_id, col(OptimizationTask.index).in_(list(indices)))
        .order_by(col(OptimizationTask.index))
    )
    return [(task, result) for task, result in session.exec(stmt).all()]


def get_task_at(*, session: Session, job_id: uuid.UUID, index: int) -> OptimizationTask | None:
    """The stored task of one combination of a job, if any."""
    return session.exec(
        select(OptimizationTask).where(OptimizationTask.job_id == job_id,
                                       OptimizationTask.index == index)
    ).first()


def delete_task_slice(*, session: Session, job_id: uuid.UUID, limit: int) -> int:
    """Delete up to ``limit`` of a job's task rows (and their result summaries); return how
    many task rows went. Called in a loop, one short transaction per slice."""
    ids = session.exec(
        select(OptimizationTask.id).where(OptimizationTask.job_id == job_id).limit(limit)
    ).all()
    if not ids:
        return 0
    session.execute(delete(ResultSummary).where(col(ResultSummary.task_id).in_(ids)))
    session.execute(delete(OptimizationTask).where(col(OptimizationTask.id).in_(ids)))
    return len(ids)


class PairBest(NamedTuple):
    """The best score at one pair of parameter values (``y`` None for a one-parameter
    aggregation) and the combination holding it (the lowest index among ties). A named
    tuple: tens of thousands are made per call."""

    x: int | float
    y: int | float | None
    score: float
    index: int  # type: ignore[assignment]  # shadows tuple.index, on purpose: the name


Cells = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# (job, x, y, dense axes' steps, stamp) -> (cells, when they were read, how long it took)
_CELLS: OrderedDict[tuple[uuid.UUID, str, str | None, tuple[tuple[str, int], ...], Hashable],
                    tuple[Cells, float, float]] = OrderedDict()
_CELLS_SIZE = 32  # (job, axes) aggregates kept (a running job's: every pair, both ways round)
_CELLS_LOCK = threading.Lock()
# Held while one thread reads a job's rows for its cells. A read of a large running job takes
# seconds and most of the readers' memory (one analytical engine, shared by every job): two
# at once, even of two jobs, could run out of it. Pages of one job refresh together; a page
# that finds a read under way shows its job's last cells meanwhile, or waits for that read
# when there are none (and shares it, if it was its job's).
_READING = threading.Lock()
_PAIRS: SameSource[list[PairBest]] = SameSource(8)  # best_by_pair's, per kept cells


ANY_STAMP = "any"  # a stamp that accepts whatever aggregate of the job is kept


@dataclass(frozen=True)
class LiveStamp:
    """The stamp of a running job, whose rows change with every chunk: its aggregate is
    reused for ``LIVE_REUSE_SECONDS``, or ``LIVE_REUSE_FACTOR`` times as long as reading it
    took, whichever is longer. However many pages show a large running job, aggregating its
    rows then takes at most about a fifth of one CPU."""

    status: str


LIVE_REUSE_SECONDS = 2.0
LIVE_REUSE_FACTOR = 5.0


def _fresh(stamp: Hashable, read_at: float, took: float) -> bool:
    if not isinstance(stamp, LiveStamp):
        return True
    return time.monotonic() - read_at < max(LIVE_REUSE_SECONDS, LIVE_REUSE_FACTOR * took)


def _value_cells(session: Session, job_id: uuid.UUID, x_param: str, y_param: str | None,
                 mode: str, stamp: Hashable | None, params: Sequence[str] = (),
                 buckets: results_store.Buckets | None = None,
                 ) -> Cells:
    """(x values, y values, best scores, indices holding them) per value pair (per group of
    values of a dense axis, see ``results_store.Buckets``), from the results store (a
    finished job's precomputed aggregates, a running job's files), kept per ``stamp``
    (``ANY_STAMP``: whatever is kept for the job and axes). For a running job those of every
    pair of ``params`` are read and kept at once."""
    grouping = tuple(sorted((p, step) for p, (_, step) in (buckets or {}).items() if step > 1))
    key = (job_id, x_param, y_param, grouping, stamp)
    if stamp is None:
        return _read_cells(session, job_id, x_param, y_param, mode, stamp, params, buckets,
                           grouping)
    kept = _kept(key)
    if kept is not None:
        return kept
    if not _READING.acquire(blocking=False):  # one read of rows at a time
        # a read is under way: a running job's last cells meanwhile (an ended job's final
        # cells are waited for: its page draws them once and stops refreshing)
        older = _kept((*key[:4], ANY_STAMP)) if isinstance(stamp, LiveStamp) else None
        if older is not None:
            return older
        _READING.acquire()  # nothing yet: wait for that read (and share it)
    try:
        kept = _kept(key)
        if kept is not None:
            return kept
        return _read_cells(session, job_id, x_param, y_param, mode, stamp, params, buckets,
                           grouping)
    finally:
        _READING.release()


def _kept(key: tuple[uuid.UUID, str, str | None, tuple[tuple[str, int], ...], Hashable]
          ) -> Cells | None:
    whatever = key[4] == ANY_STAMP
    with _CELLS_LOCK:
        if whatever:
            key = next((k for k in _CELLS if k[:4] == key[:4]), key)
        if key in _CELLS:
            kept, read_at, took = _CELLS[key]
            if whatever or _fresh(key[4], read_at, took):
                _CELLS.move_to_end(key)
                return kept
    return None


def _read_cells(session: Session, job_id: uuid.UUID, x_param: str, y_param: str | None,
                mode: str, stamp: Hashable | None, params: Sequence[str],
                buckets: results_store.Buckets | None,
                grouping: tuple[tuple[str, int], ...]) -> Cells:
    started = time.monotonic()
    results = results_store.job_results(session=session, job_id=job_id)
    if stamp is not None and results.names and not results.compacted and params:
        # a running job: every pair in the one pass, so that other axes are ready at once
        every = results_store.every_pair_cells(results, list(params), maximize=mode == "max",
                                               buckets=buckets)
    else:
        every = {(x_param, y_param): results_store.best_cells(
            results, x_param, y_param, maximize=mode == "max", buckets=buckets)}
    found = {axes: (xs, ys if ys is not None else np.zeros(len(xs)),
                    scores.astype(np.float64), indices.astype(np.int64))
             for axes, (xs, ys, scores, indices) in every.items()}
    if stamp is not None:
        now = time.monotonic()
        with _CELLS_LOCK:
            for axes, cells in found.items():
                for old in [k for k in _CELLS if k[:4] == (job_id, *axes, grouping)]:
                    del _CELLS[old]
                _CELLS[(job_id, *axes, grouping, stamp)] = (cells, now, now - started)
            while len(_CELLS) > _CELLS_SIZE:
                _CELLS.popitem(last=False)
    return found[(x_param, y_param)]


def _positions(values: list[int | float], found: np.ndarray) -> np.ndarray:
    """Where each of ``found`` is in a parameter's ``values``."""
    column = np.asarray(values)
    sorter = np.argsort(column, kind="stable")
    at = np.searchsorted(column[sorter], found)
    return sorter[np.clip(at, 0, len(column) - 1)]


def best_by_pair(
    *,
    session: Session,
    job_id: uuid.UUID,
    grid: Grid,
    x_param: str,
    y_param: str | None,
    mode: str,
    stamp: Hashable | None = None,
    x_step: int = 1,
    y_step: int = 1,
    buckets: results_store.Buckets | None = None,
) -> list[PairBest]:
    """For each pair of values of ``x_param`` and ``y_param`` (or each value of ``x_param``
    alone when ``y_param`` is None) the best score over every scored combination of the job
    (highest for ``mode`` "max", lowest for "min") and the combination holding it (the
    lowest index among ties), ordered by x then y. The aggregation over every combination is
    the results store's (``results_store.best_by_pair``); here its cells are grouped.

    ``stamp`` (e.g. the job's status and finished count) lets calls for the same job and
    axes reuse the aggregate of the last one while it is unchanged. ``x_step``/``y_step`` > 1
    group that many consecutive values of a parameter into one cell (a dense axis drawn in a
    few hundred pixels); a cell's ``x``/``y`` is then the first value of its group.
    ``buckets`` (the same steps, for every parameter that varies) groups them in the
    aggregation already: a running job's cells then stay as few as the chart draws."""
    axes = [name for name, values in grid.values.items() if len(values) > 1]
    axes += [name for name in (x_param, y_param) if name and name not in axes]
    cells = _value_cells(session, job_id, x_param, y_param, mode, stamp, axes, buckets)
    # the same kept cells give the same list (pages of one job share it; do not change it)
    return _PAIRS.get((job_id, x_param, y_param, mode, x_step, y_step), cells,
                      lambda: _grouped(cells, grid, x_param, y_param, mode, x_step, y_step))


def _grouped(cells: Cells, grid: Grid, x_param: str, y_param: str | None, mode: str,
             x_step: int, y_step: int) -> list[PairBest]:
    """The best of ``cells`` per cell of ``x_step`` × ``y_step`` values."""
    x_found, y_found, scores, indices = cells
    if not len(scores):
        return []
    xs = np.asarray(grid.values[x_param])[::x_step]
    ys = np.asarray(grid.values[y_param])[::y_step] if y_param else np.zeros(1)
    keys = _positions(grid.values[x_param], x_found) // x_step * len(ys)
    if y_param:
        keys += _positions(grid.values[y_param], y_found) // y_step
    signed = scores if mode == "max" else -scores
    order = np.lexsort((indices, -signed, keys))  # per cell: best first, then lowest index
    keys, signed, indices = keys[order], signed[order], indices[order]
    first = np.concatenate(([True], keys[1:] != keys[:-1]))
    x_at, y_at = np.divmod(keys[first], len(ys))
    best = signed[first] if mode == "max" else -signed[first]
    y_column = ys[y_at].tolist() if y_param else [None] * int(first.sum())
    return [PairBest(*cell) for cell in zip(xs[x_at].tolist(), y_column, best.tolist(),
                                            indices[first].tolist(), strict=True)]

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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session, col, delete, select

from optimizer_app.core.config import settings
from optimizer_app.domain.results_file import (
    ROW_GROUP_ROWS,
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    param_column,
)
from optimizer_app.domain.stats import INTEGER_METRICS, METRIC_KEYS
from optimizer_app.persistence.models import ResultFile, TaskStatus

__all__ = [
    "AggregateTooLargeError", "JobResults", "add_file", "best_by_pair", "best_cells",
    "close_compaction_engine", "compact_files", "every_pair_cells",
    "job_dir", "job_results", "page", "remove_job", "remove_orphans", "row_at", "stored_indices",
]

ENGINE_THREADS = 2
ENGINE_MEMORY = "64MB"  # readers (the web server): pages and aggregates
COMPACTION_MEMORY = "256MB"  # the orchestrator's compaction, spilling to disk beyond it
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


DATA_KINDS = ("chunk", "job")  # files holding a job's rows (each row in exactly one)
INDEX_KIND = "job-index"  # a finished job's rows again, in index order
PAIRS_KIND = "job-pairs"  # a finished job's best score per value pair of two parameters


@dataclass(frozen=True)
class JobResults:
    """The committed files of one job, as read from the manifest: ``names`` hold its rows
    (per-chunk files while it runs; one file sorted best first once compacted, with an
    index-ordered copy and the pair aggregates beside it)."""

    job_id: uuid.UUID
    names: tuple[str, ...]
    compacted: bool
    rows: int
    failed: int
    bytes: int
    index_name: str | None = None
    pairs_name: str | None = None

    @property
    def paths(self) -> list[str]:
        folder = job_dir(self.job_id)
        return [str(folder / name) for name in self.names]

    def path(self, name: str) -> str:
        return str(job_dir(self.job_id) / name)

    @property
    def all_names(self) -> tuple[str, ...]:
        return self.names + tuple(n for n in (self.index_name, self.pairs_name) if n)

    def count(self, status: str | None) -> int:
        if status is None:
            return self.rows
        return self.failed if status == TaskStatus.FAILED.value else self.rows - self.failed


def job_results(*, session: Session, job_id: uuid.UUID) -> JobResults:
    files = session.exec(
        select(ResultFile).where(ResultFile.job_id == job_id).order_by(col(ResultFile.created_at))
    ).all()
    data = [f for f in files if f.kind in DATA_KINDS]
    extra = {f.kind: f.name for f in files if f.kind not in DATA_KINDS}
    return JobResults(
        job_id=job_id,
        names=tuple(f.name for f in data),
        compacted=len(data) == 1 and data[0].kind == "job",
        rows=sum(f.rows for f in data),
        failed=sum(f.failed for f in data),
        bytes=sum(f.bytes for f in files),
        index_name=extra.get(INDEX_KIND),
        pairs_name=extra.get(PAIRS_KIND),
    )


# -- reading -----------------------------------------------------------------------------------

# Arrow buffers from the system allocator: pages read here are small and short-lived, and the
# system allocator hands their memory back rather than keeping it for the process's lifetime.
pa.set_memory_pool(pa.system_memory_pool())
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
                _engine = _connect(ENGINE_MEMORY)
            cursor = _engine.cursor()
        _local.cursor = cursor
    return cursor


def _connect(memory: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB instance with bounded threads and memory; what does not fit
    spills to a folder of the results store (never to the working directory)."""
    spill = root() / ".spill"
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(config={"threads": ENGINE_THREADS, "memory_limit": memory,
                                  "temp_directory": str(spill)})


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
    if results.compacted and status is None:
        if sort == "score" and descending == best_first_descending:
            return _slice(results.paths[0], offset, limit)
        if sort == "index" and results.index_name:
            if not descending:
                return _slice(results.path(results.index_name), offset, limit)
            start = max(0, results.rows - offset - limit)
            end = max(0, results.rows - offset)
            return _slice(results.path(results.index_name), start, end - start)[::-1]
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
    paths = [results.path(results.index_name)] if results.index_name else results.paths
    query = f"SELECT * FROM {_files_sql(paths)} WHERE index = {int(index)} LIMIT 1"
    rows = _rows(_cursor().sql(query).to_arrow_table())
    return rows[0] if rows else None


def best_in_range(results: JobResults, start: int, stop: int, *, maximize: bool
                  ) -> int | None:
    """The index in ``start..stop-1`` with the best score (ties: the lowest index)."""
    if not results.names:
        return None
    order = "DESC" if maximize else "ASC"
    query = (f"SELECT index FROM {_files_sql(results.paths)} WHERE index >= {int(start)} "
             f"AND index < {int(stop)} AND score IS NOT NULL ORDER BY score {order}, index "
             f"LIMIT 1")
    found = _cursor().sql(query).fetchall()
    return int(found[0][0]) if found else None


def counts_by_block(results: JobResults, size: int) -> dict[int, int]:
    """How many rows (any status) each block of ``size`` consecutive indices holds."""
    if not results.names or size <= 0:
        return {}
    query = (f"SELECT index // {int(size)} AS block, count(*) FROM "
             f"{_files_sql(results.paths)} GROUP BY block")
    return {int(block): int(count) for block, count in _cursor().sql(query).fetchall()}


def score_sample(results: JobResults, limit: int) -> list[tuple[int, float]]:
    """Up to ``limit`` scored rows (index, score), every k-th in index order (the same sample
    every time)."""
    if not results.names or limit <= 0:
        return []
    source = _files_sql(results.paths)
    count = int(_cursor().sql(
        f"SELECT count(*) FROM {source} WHERE score IS NOT NULL").fetchall()[0][0])
    if not count:
        return []
    step = max(1, -(-count // limit))
    query = (f"SELECT index, score FROM (SELECT index, score, row_number() OVER (ORDER BY index)"
             f" - 1 AS k FROM {source} WHERE score IS NOT NULL) WHERE k % {step} = 0 "
             f"ORDER BY index LIMIT {int(limit)}")
    return [(int(i), float(v)) for i, v in _cursor().sql(query).fetchall()]


def _best_and_holder(maximize: bool) -> tuple[str, str]:
    """The best score of a group and the index holding it (ties: the lowest index, compared
    as a struct: score first, then the index)."""
    if maximize:
        return "max(score)", "arg_max(index, row(score, -index))"
    return "min(score)", "arg_min(index, row(score, index))"


def _grouping_mask(columns: Sequence[str], group: Sequence[str]) -> int:
    """DuckDB's ``GROUPING(columns…)`` of a grouping set: a bit set for each column not in it."""
    return sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in group)


def best_by_pair(
    results: JobResults, x: str, y: str | None, *, maximize: bool
) -> list[dict[str, Any]]:
    """``best_cells`` as rows ``{x, y, score, index}``."""
    xs, ys, scores, indices = best_cells(results, x, y, maximize=maximize)
    y_list = ys.tolist() if ys is not None else [None] * len(xs)
    return [{"x": a, "y": b, "score": c, "index": d} for a, b, c, d in zip(
        xs.tolist(), y_list, scores.tolist(), indices.tolist(), strict=True)]


class AggregateTooLargeError(Exception):
    """An aggregation needed more memory than the readers' engine has (``ENGINE_MEMORY``):
    too many cells at the resolution asked (group dense axes with ``Buckets``)."""


def _aggregate(cursor: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    try:
        return cursor.sql(query).to_arrow_table()
    except duckdb.OutOfMemoryException as exc:
        raise AggregateTooLargeError(str(exc).splitlines()[0]) from exc


Buckets = Mapping[str, tuple[Sequence[int | float], int]]
"""Per parameter, its grid values and how many consecutive ones make one cell (> 1 for a
dense axis): each of its values then counts as the first value of its group."""


def best_cells(results: JobResults, x: str, y: str | None, *, maximize: bool,
               buckets: Buckets | None = None) -> PairCells:
    """For each value pair of parameters ``x`` and ``y`` (or each value of ``x``), the best
    score over every ranked combination and the index holding it (ties: lowest index). A
    compacted job reads its precomputed aggregates; a running one aggregates its files.
    ``buckets``: dense axes are grouped in the aggregation itself (see ``Buckets``), so the
    cells stay as few as the chart draws however many combinations there are."""
    keys = [param_column(x)] + ([param_column(y)] if y else [])
    if not results.names:
        empty = np.zeros(0)
        return empty, (empty if y else None), empty, np.zeros(0, dtype=np.int64)
    cursor = _cursor()
    best, holder = _best_and_holder(maximize)
    group = ", ".join(keys)
    if results.pairs_name:
        path = results.path(results.pairs_name)
        schema = pq.read_schema(path)
        columns = [c for c in schema.names if c.startswith("p_")]
        listed = (schema.metadata or {}).get(PAIR_SETS_KEY.encode())
        held = ({frozenset(found.split(",")) for found in listed.decode().split(";")}
                if listed is not None else None)  # (before the list: every set)
        if all(k in columns for k in keys) and (held is None or frozenset(keys) in held):
            mask = _grouping_mask(columns, keys)
            with _bucketed(cursor, f"read_parquet('{path}')", f"grouping = {mask}",
                           [k for k in (x, y) if k], buckets) as (source, grouped):
                if not grouped:
                    return _cells(_aggregate(cursor, f"SELECT {group}, score, index FROM {source}"),
                                  keys)
                return _cells(_aggregate(
                    cursor, f"SELECT {group}, {best} AS score, {holder} AS index FROM {source} "
                    f"GROUP BY {group}"), keys)
    with _bucketed(cursor, _files_sql(results.paths), "score IS NOT NULL",
                   [k for k in (x, y) if k], buckets) as (source, _):
        return _cells(_aggregate(cursor, f"SELECT {group}, {best} AS score, {holder} AS index "
                                         f"FROM {source} GROUP BY {group}"), keys)


@contextmanager
def _bucketed(cursor: duckdb.DuckDBPyConnection, rows_sql: str, where: str,
              params: Sequence[str], buckets: Buckets | None) -> Iterator[tuple[str, bool]]:
    """The rows of ``rows_sql`` that match ``where``, as SQL, with each parameter of
    ``params`` grouped by ``buckets`` replaced by the first value of its group (a join with a
    small table of its values), and whether any was; the tables go when the block ends."""
    grouped = [p for p in params if buckets and p in buckets and buckets[p][1] > 1]
    if not grouped or buckets is None:
        yield f"(SELECT * FROM {rows_sql} WHERE {where})", False
        return
    names: list[str] = []
    try:
        joins, columns = [], []
        for k, param in enumerate(grouped):
            values, step = buckets[param]
            firsts = [values[i - i % step] for i in range(len(values))]
            name = f"cells_{uuid.uuid4().hex}"
            cursor.register(name, pa.table({"v": pa.array(values), "b": pa.array(firsts)}))
            names.append(name)
            joins.append(f"JOIN {name} m{k} ON r.{param_column(param)} = m{k}.v")
            columns.append(f"m{k}.b AS {param_column(param)}")
        kept = [param_column(p) for p in params if p not in grouped]
        select = ", ".join([*columns, *(f"r.{c}" for c in kept), "r.score", "r.index"])
        yield (f"(SELECT {select} FROM (SELECT * FROM {rows_sql} WHERE {where}) r "
               f"{' '.join(joins)})", True)
    finally:
        for name in names:
            cursor.unregister(name)


PairCells = tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]


def every_pair_cells(results: JobResults, params: Sequence[str], *, maximize: bool,
                     buckets: Buckets | None = None
                     ) -> dict[tuple[str, str | None], PairCells]:
    """``best_cells`` of every pair of ``params`` (both ways round) and of each one alone,
    in one pass over the job's rows (``GROUPING SETS``): what a running job's heatmap reads
    once per refresh, so that choosing other axes needs no read of its own."""
    columns = [param_column(p) for p in params]
    if not results.names or not columns:
        return {}
    if results.pairs_name:  # compacted: each is one filter of the precomputed aggregates
        return {(x, y): best_cells(results, x, y, maximize=maximize, buckets=buckets)
                for x in params for y in [*[q for q in params if q != x], None]}
    # (one pair's arrays serve both ways round: x by y is y by x, the columns swapped)
    sets = [f"({a}, {b})" for i, a in enumerate(columns) for b in columns[i + 1:]]
    sets += [f"({a})" for a in columns]
    best, holder = _best_and_holder(maximize)
    group = ", ".join(columns)
    cursor = _cursor()
    with _bucketed(cursor, _files_sql(results.paths), "score IS NOT NULL", params,
                   buckets) as (source, _):
        table = _aggregate(
            cursor, f"SELECT {group}, GROUPING({group}) AS grouping, {best} AS score, "
            f"{holder} AS index FROM {source} GROUP BY GROUPING SETS ({', '.join(sets)})")
    grouping = table.column("grouping").to_numpy()
    scores = table.column("score").to_numpy()
    indices = table.column("index").to_numpy()
    values = {c: table.column(c).to_numpy() for c in columns}
    found: dict[tuple[str, str | None], PairCells] = {}
    for i, x in enumerate(params):
        rows = grouping == _grouping_mask(columns, [columns[i]])
        found[(x, None)] = (values[columns[i]][rows], None, scores[rows], indices[rows])
        for j in range(i + 1, len(params)):
            rows = grouping == _grouping_mask(columns, [columns[i], columns[j]])
            xs, ys = values[columns[i]][rows], values[columns[j]][rows]
            found[(x, params[j])] = (xs, ys, scores[rows], indices[rows])
            found[(params[j], x)] = (ys, xs, found[(x, params[j])][2], found[(x, params[j])][3])
    return found


def _cells(table: pa.Table, keys: list[str]) -> PairCells:
    """(x values, y values or None, best scores, indices holding them) as arrays."""
    return (
        table.column(keys[0]).to_numpy(),
        table.column(keys[1]).to_numpy() if len(keys) > 1 else None,
        table.column("score").to_numpy(),
        table.column("index").to_numpy(),
    )


# -- compaction and removal (the orchestrator) -------------------------------------------------


@dataclass(frozen=True)
class NewFile:
    name: str
    kind: str
    rows: int
    failed: int
    size: int


PAIR_CELLS = 2_000_000
"""Cells precomputed per compacted job, at most (every set of the pairs file together): the
aggregation holds them all in memory (~4 million fit in the compaction's 256 MB). A pair
with more, such as two parameters of hundreds and tens of thousands of values, is left out:
its heatmap then groups the job's rows itself (see ``Buckets``)."""
PAIR_SETS_KEY = "pair_sets"  # the pairs file's metadata: the sets it holds ("p_a,p_b;p_a")


def _pair_sets(cursor: duckdb.DuckDBPyConnection, path: Path, columns: list[str]
               ) -> list[tuple[str, ...]]:
    """The grouping sets to precompute: each parameter and each unordered pair of them (x
    by y and y by x are the same groups), smallest first, while their cells (estimated from
    each parameter's distinct values) fit ``PAIR_CELLS``; in the columns' order."""
    if not columns:
        return []
    counts = cursor.execute(
        "SELECT " + ", ".join(f"approx_count_distinct({c})" for c in columns)
        + f" FROM read_parquet('{path}') WHERE score IS NOT NULL").fetchall()[0]
    distinct = {c: max(1, int(n or 0)) for c, n in zip(columns, counts, strict=True)}
    candidates: list[tuple[str, ...]] = [(a,) for a in columns]
    candidates += [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:]]
    cells = {found: int(np.prod([distinct[c] for c in found])) for found in candidates}
    chosen: set[tuple[str, ...]] = set()
    total = 0
    for found in sorted(candidates, key=lambda f: cells[f]):
        if total + cells[found] <= PAIR_CELLS:
            chosen.add(found)
            total += cells[found]
    return [found for found in candidates if found in chosen]


def _copy(cursor: duckdb.DuckDBPyConnection, select_sql: str, folder: Path, prefix: str,
          metadata: dict[str, str] | None = None) -> tuple[str, int]:
    name = f"{prefix}-{uuid.uuid4().hex}.parquet"
    partial = folder / f".{name}.partial"
    try:
        kv = ""
        if metadata:
            kv = ", KV_METADATA {" + ", ".join(
                f"{key}: '{value}'" for key, value in metadata.items()) + "}"
        cursor.execute(
            f"COPY ({select_sql}) TO '{partial}' (FORMAT parquet, COMPRESSION zstd, "
            f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, PARQUET_VERSION v2{kv})"
        ).fetchall()
        partial.replace(folder / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return name, (folder / name).stat().st_size


def compact_files(results: JobResults, *, descending: bool) -> list[NewFile]:
    """Write the rows of every file of ``results`` as one new file sorted best first, a copy
    in index order, and the best score per value pair (and per value) of the parameters.
    The caller commits them and then removes the old files."""
    folder = job_dir(results.job_id)
    source = _files_sql(results.paths)
    cursor = _compaction_cursor()
    made: list[NewFile] = []
    try:
        order = f"score {'DESC' if descending else 'ASC'} NULLS LAST, index ASC"
        name, size = _copy(cursor, f"SELECT * FROM {source} ORDER BY {order}", folder, "job")
        path = folder / name
        rows, failed = cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE status = {STATUS_FAILED}) "
            f"FROM read_parquet('{path}')"
        ).fetchall()[0]
        made.append(NewFile(name, "job", int(rows), int(failed), size))
        name, size = _copy(cursor, f"SELECT * FROM read_parquet('{path}') ORDER BY index",
                           folder, "index")
        made.append(NewFile(name, INDEX_KIND, int(rows), int(failed), size))
        columns = [c for c in pq.read_schema(path).names if c.startswith("p_")]
        sets = _pair_sets(cursor, path, columns)
        if sets:
            best, holder = _best_and_holder(descending)
            group = ", ".join(c for c in columns if any(c in found for found in sets))
            listed = ", ".join(f"({', '.join(found)})" for found in sets)
            pairs = (f"SELECT {group}, GROUPING({group}) AS grouping, {best} AS score, "
                     f"{holder} AS index FROM read_parquet('{path}') WHERE score IS NOT NULL "
                     f"GROUP BY GROUPING SETS ({listed})")
            kept = ";".join(",".join(found) for found in sets)
            name, size = _copy(cursor, pairs, folder, "pairs",
                               metadata={PAIR_SETS_KEY: kept})
            made.append(NewFile(name, PAIRS_KIND, 0, 0, size))
    except BaseException:
        for new in made:
            (folder / new.name).unlink(missing_ok=True)
        raise
    return made


def _compaction_cursor() -> duckdb.DuckDBPyConnection:
    """The compacting thread's own DuckDB instance (its larger memory limit), kept between
    jobs: a new instance costs ~30 ms, more than compacting a small job."""
    cursor = getattr(_local, "compaction", None)
    if cursor is None:
        cursor = _local.compaction = _connect(COMPACTION_MEMORY)
    return cursor


def close_compaction_engine() -> None:
    """Close this thread's compaction instance (if any), giving back the memory it keeps."""
    cursor = getattr(_local, "compaction", None)
    if cursor is not None:
        _local.compaction = None
        cursor.close()


def replace_files(
    *, session: Session, job_id: uuid.UUID, old: Sequence[str], new: Sequence[NewFile]
) -> None:
    """Swap a job's committed files for its compacted ones (in the caller's transaction)."""
    session.exec(delete(ResultFile).where(  # type: ignore[call-overload]
        col(ResultFile.job_id) == job_id, col(ResultFile.name).in_(list(old))))
    for f in new:
        add_file(session=session, job_id=job_id, name=f.name, rows=f.rows, failed=f.failed,
                 size=f.size, kind=f.kind)


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

"""Writing a chunk's outcome: short transactions, idempotent, guarded by the lease.

A worker writes every result of its chunk to a file of the results store itself; here, in one
transaction: lock the job row, check that it is still ``running`` and leased to this
orchestrator (a job canceled, finished or taken over gets nothing more, and its file is
removed), commit the chunk's file, insert the task rows of the results that enter the Top-N
(with their result summaries and artifacts), update the summary, renew the lease, and apply
the early-stop rules and completion — so a terminal status and the final summary are written
together, and nothing is written after. Failed combinations also get task rows (their error).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session

from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import QUEUE_WAIT, TASKS_FAILED, TASKS_FINISHED
from optimizer_app.domain.policy import stop_reason
from optimizer_app.domain.results_file import chunk_table, write_table
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.domain.worker import ChunkResult
from optimizer_app.orchestration.artifacts import ArtifactStore, artifact_kind
from optimizer_app.orchestration.board import Board, Entry
from optimizer_app.orchestration.jobrun import JobRun
from optimizer_app.orchestration.rows import (
    RESULT_ID_POSITION,
    link_results,
    metrics_of,
    params_json,
    task_rows,
)
from optimizer_app.orchestration.transitions import observe_terminal, transition
from optimizer_app.persistence import jobs, results_store, tasks
from optimizer_app.persistence.db import get_engine, session_scope
from optimizer_app.persistence.models import JobStatus, OptimizationJob, TaskStatus, utcnow
from optimizer_app.persistence.tasks import (
    ROW_COLUMNS,
    SHARED_COLUMNS,
    TaskBatch,
    timestamp_text,
)


@dataclass(frozen=True)
class StoredFile:
    """A results file in the job's folder of the results store, to commit."""

    name: str
    rows: int
    failed: int
    size: int


@dataclass
class Prepared:
    board: Board
    indices: np.ndarray
    task_rows: TaskBatch
    result_rows: list[tuple[Any, ...]]
    finished: int = 0
    failed: int = 0
    file: StoredFile | None = None
    # Combinations whose artifact files a worker wrote into the store but which did not
    # enter the Top-N (the board moved on since the chunk was sent): removed once committed.
    unlinked: list[int] = field(default_factory=list)


@dataclass
class WriteOutcome:
    held: bool  # False: the job is not ours to write any more (canceled, taken, terminal)
    status: str | None = None  # the job's status after the write
    written: int = 0


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- preparing rows (no database) ------------------------------------------------------------


def _artifacts_for(
    run: JobRun,
    store: ArtifactStore,
    task_id: uuid.UUID,
    index: int,
    files: dict[str, bytes] | None,
    written: list[str] | None = None,
) -> list[dict[str, str]]:
    if written is not None:  # the worker wrote them into the store
        return [{"name": name, "kind": artifact_kind(name),
                 "uri": store.uri_for(run.job_id, task_id, name)} for name in written]
    if files is None:  # the worker chose other rows (a tie at the threshold): make them here
        from optimizer_app.domain.engine import (
            BacktestOptions,
            equity_csv,
            run_single,
            trades_csv,
        )

        logger.bind(job_id=str(run.job_id), index=index).info("computing artifacts locally")
        options = BacktestOptions.model_validate(run.options)
        bars = run.bars_for(index)
        single = run_single(bars, run.grid.strategy, run.grid.params_at(index), options)
        files = {"equity.csv": equity_csv(bars, single), "trades.csv": trades_csv(single)}
    return [
        {"name": name, "kind": artifact_kind(name), "uri": store.put(run.job_id, task_id, name, data)}
        for name, data in sorted(files.items())
    ]


def _dialect() -> str:
    return get_engine().dialect.name


def _committed_file(run: JobRun, result: ChunkResult, positions: np.ndarray) -> StoredFile:
    """The chunk's results file as committed: the worker's file, or — when some of its rows
    are stored already (a chunk sent again after part of it was written) — a copy holding
    only ``positions``' rows, so that a combination is never in two committed files."""
    folder = results_store.job_dir(run.job_id)
    if len(positions) == len(result.indices):
        return StoredFile(result.file, len(positions), 0, result.file_bytes)
    table = pq.read_table(folder / result.file)
    keep = pa.array(np.isin(table.column("index").to_numpy(), result.indices[positions]))
    name, size = write_table(table.filter(keep), folder)
    (folder / result.file).unlink(missing_ok=True)
    return StoredFile(name, len(positions), 0, size)


def prepare_success(
    run: JobRun, result: ChunkResult, *, store: ArtifactStore, now: datetime, skip: set[int]
) -> Prepared:
    """The updated board, the task rows of the chunk's results that enter the Top-N (artifact
    files written for each) and the chunk's results file to commit. Combinations already
    stored are skipped."""
    indices = np.asarray(result.indices, dtype=np.int64)
    order = np.argsort(indices, kind="stable")
    keep = ~run.done[indices[order]]
    if skip:
        keep &= ~np.isin(indices[order], np.fromiter(skip, dtype=np.int64))
    positions = order[keep]
    chosen = indices[positions]
    raw_scores = np.asarray(result.scores, dtype=np.float64)
    board = run.board.copy()
    kept = np.zeros(len(indices), dtype=bool)
    kept[positions] = True
    if board.folds is not None:
        board.folds.record_finished(
            chosen, raw_scores[positions],
            np.ones(len(positions), dtype=bool) if result.passes is None
            else np.asarray(result.passes, dtype=bool)[positions])
    if result.passes is None:
        ranked = raw_scores
        board.record(raw_scores[positions])
    else:  # rows failing a result constraint are stored without a score and never ranked
        passes = np.asarray(result.passes, dtype=bool)
        ranked = np.where(passes, raw_scores, np.nan)
        board.record(raw_scores[positions][passes[positions]])
        board.add_constrained(int(len(positions) - np.count_nonzero(passes[positions])))
    metrics = result.candidate_metrics()
    entries: list[tuple[int, float, str]] = []
    links: dict[int, list[dict[str, str]]] = {}
    candidates = [k for k in np.asarray(result.candidates).tolist() if kept[k]]
    for k in sorted(candidates, key=lambda k: (-ranked[k] if board.mode == "max" else ranked[k],
                                               int(indices[k]))):
        index = int(indices[k])
        task_id = task_id_for(run.job_id, index)
        entry = Entry(str(task_id), index, float(ranked[k]), run.grid.params_at(index),
                      metrics_of(metrics[k]))
        if not board.offer(entry):
            break  # the rest of the chunk scores no better
        links[len(entries)] = _artifacts_for(run, store, task_id, index,
                                             result.artifacts.get(index),
                                             result.artifacts_written.get(index))
        entries.append((index, float(ranked[k]), metrics[k]))
    linked = {e[0] for e in entries}
    unlinked = [i for i in (int(indices[k]) for k in candidates)
                if i not in linked and i in result.artifacts_written]
    dialect = _dialect()
    entry_indices = np.asarray([e[0] for e in entries], dtype=np.int64)
    rows = task_rows(
        job_id=run.job_id,
        indices=entry_indices.tolist(),
        params=params_json(run.grid, entry_indices),
        status=TaskStatus.SUCCEEDED,
        scores=[e[1] for e in entries],
        metrics=[e[2] for e in entries],
        attempts=1,
        error=None,
        started_at=timestamp_text(now - timedelta(seconds=max(0.0, float(result.elapsed))),
                                  dialect=dialect),
        finished_at=timestamp_text(now, dialect=dialect),
    )
    results = link_results(rows, links)
    file = _committed_file(run, result, positions) if len(positions) else None
    return Prepared(board, chosen, rows, results, finished=len(chosen), file=file,
                    unlinked=unlinked)


def failure_file(run: JobRun, indices: np.ndarray) -> StoredFile:
    """A results file holding ``indices`` as failed combinations (written here: no worker
    returned them)."""
    table = chunk_table(indices=indices, params=run.grid.params_for(indices), scores=None,
                        passes=None, metrics=None)
    name, size = write_table(table, results_store.job_dir(run.job_id))
    return StoredFile(name, len(indices), len(indices), size)


def prepare_failure(
    run: JobRun,
    indices: np.ndarray,
    *,
    error: str,
    category: str,
    attempts: int,
    now: datetime,
    skip: set[int],
) -> Prepared:
    indices = np.sort(np.asarray(indices, dtype=np.int64))
    keep = ~run.done[indices]
    if skip:
        keep &= ~np.isin(indices, np.fromiter(skip, dtype=np.int64))
    chosen = indices[keep]
    board = run.board.copy()
    board.add_failures(len(chosen), category)
    if board.folds is not None:
        board.folds.record_failed(chosen)
    stamp = timestamp_text(now, dialect=_dialect())
    rows = task_rows(
        job_id=run.job_id,
        indices=chosen.tolist(),
        params=params_json(run.grid, chosen),
        status=TaskStatus.FAILED,
        scores=None,
        metrics=None,
        attempts=attempts,
        error=error,
        error_category=category,
        started_at=stamp,
        finished_at=stamp,
    )
    return Prepared(board, chosen, rows, [], failed=len(rows))


# -- the transaction ---------------------------------------------------------------------------


def _held(job: OptimizationJob | None, owner: str) -> bool:
    return job is not None and job.status == JobStatus.RUNNING.value and job.lease_owner == owner


def _stamp_start(job: OptimizationJob, started: datetime) -> float | None:
    """Record when the job's first chunk ran; return the queue wait then measured."""
    if job.started_at is not None:
        return None
    created = _aware(job.created_at)
    started = max(started, created)
    job.started_at = started
    job.queue_wait_seconds = (started - created).total_seconds()
    return job.queue_wait_seconds


def _settle(job: OptimizationJob, run: JobRun, board: Board, committing: np.ndarray
            ) -> np.ndarray:
    """Terminal status when the chunk (``committing``) completed the grid or tripped an
    early-stop rule. Returns the combinations withdrawn (walk-forward folds that stopped)."""
    if board.folds is not None:
        return _settle_folds(job, run, board, committing)
    _settle_job(job, run, board)
    return np.zeros(0, dtype=np.int64)


def _settle_job(job: OptimizationJob, run: JobRun, board: Board) -> None:
    if board.done >= run.total:
        if board.finished == 0:
            transition(job, JobStatus.FAILED, error="every combination failed; see the tasks")
        else:
            transition(job, JobStatus.SUCCEEDED)
        return
    reason = stop_reason(
        run.policy, finished=board.finished, best=board.best, since_best=board.since_best
    )
    if reason:
        transition(job, JobStatus.EARLY_STOPPED, reason=reason)


def _settle_folds(job: OptimizationJob, run: JobRun, board: Board, committing: np.ndarray
                  ) -> np.ndarray:
    """A walk-forward job: each fold's rules on its own results (a fold that stops withdraws
    what it has not run); the job ends when every fold finished or stopped."""
    assert board.folds is not None
    pending = ~run.done.to_bools()
    pending[committing] = False
    stopped = board.folds.stop(run.policy, pending)
    withdrawn = (np.concatenate(list(stopped.values())) if stopped
                 else np.zeros(0, dtype=np.int64))
    if board.done + board.folds.skipped < run.total:
        return withdrawn
    reason = board.folds.reason()
    if board.finished == 0:
        transition(job, JobStatus.FAILED, error="every combination failed; see the tasks")
    elif reason:
        transition(job, JobStatus.EARLY_STOPPED, reason=reason)
    else:
        transition(job, JobStatus.SUCCEEDED)
    return withdrawn


# Rows per write transaction. SQLite has one writer: every transaction here holds the lock
# for its statements only, and a slice of this many rows takes ~15-25 ms on the embedded
# default, so a request that writes (a sign-up, a submit) waits at most about that long.
WRITE_SLICE_ROWS = 4_096
_INDEX = ROW_COLUMNS.index("index")
_STATUS = SHARED_COLUMNS.index("status")
_CATEGORY = SHARED_COLUMNS.index("error_category")


def _slices(batch: TaskBatch, size: int) -> tuple[list[TaskBatch], TaskBatch]:
    """The rows of ``batch`` as leading slices of plain rows and a final slice that holds
    every row linked to a result summary (the chunk's Top-N entries) and the last plain rows.
    A crash between slices leaves only rows that changed no ranking, which the resume
    counts from the stored rows."""
    linked = [row for row in batch.rows if row[RESULT_ID_POSITION] is not None]
    plain = [row for row in batch.rows if row[RESULT_ID_POSITION] is None]
    room = max(size - len(linked), 0)
    cut = max(len(plain) - room, 0)
    head = [TaskBatch(batch.shared, plain[i : min(i + size, cut)]) for i in range(0, cut, size)]
    return head, TaskBatch(batch.shared, plain[cut:] + linked)


def _failure_file(run: JobRun, batch: TaskBatch) -> StoredFile | None:
    if batch.shared[_STATUS] != TaskStatus.FAILED.value or not batch.rows:
        return None
    return failure_file(run, np.asarray([row[_INDEX] for row in batch.rows], dtype=np.int64))


def _discard(run: JobRun, file: StoredFile | None) -> None:
    if file is not None:
        (results_store.job_dir(run.job_id) / file.name).unlink(missing_ok=True)


def _write_slice(run: JobRun, batch: TaskBatch, *, owner: str) -> WriteOutcome:
    """Insert one leading slice (with its results file, for failed rows) in a transaction of
    its own (nothing when the job is no longer ours)."""
    file = _failure_file(run, batch)
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=run.job_id, for_update=True)
        if not _held(job, owner):
            _discard(run, file)
            return WriteOutcome(held=False, status=job.status if job else None)
        tasks.insert_tasks(session=session, batch=batch)
        _add(session, run, file)
    return WriteOutcome(held=True, status=JobStatus.RUNNING.value, written=len(batch))


def _add(session: Session, run: JobRun, file: StoredFile | None) -> None:
    if file is not None:
        results_store.add_file(session=session, job_id=run.job_id, name=file.name,
                               rows=file.rows, failed=file.failed, size=file.size)


def commit_chunk(
    run: JobRun,
    prepared: Prepared,
    *,
    owner: str,
    lease_seconds: float,
    elapsed: float = 0.0,
) -> WriteOutcome:
    """Write ``prepared`` in short transactions: the chunk's results file is committed with
    its Top-N rows, the summary, the lease and the status in one; failed rows (which may be
    many) go ``WRITE_SLICE_ROWS`` at a time, each slice with a results file of its own."""
    head, last = _slices(prepared.task_rows, WRITE_SLICE_ROWS)
    written: list[TaskBatch] = []
    try:
        for batch in head:
            outcome = _write_slice(run, batch, owner=owner)
            if not outcome.held:
                _discard(run, prepared.file)
                return outcome
            written.append(batch)
        return _commit_last(run, prepared, last, owner=owner, lease_seconds=lease_seconds,
                            elapsed=elapsed)
    except Exception:
        _account_for(run, written)  # the chunk is sent again; these rows stay counted
        raise


def _account_for(run: JobRun, written: list[TaskBatch]) -> None:
    """Count slices already committed by a chunk write that then failed, so that the
    chunk's next try skips them and the summary still adds up (leading slices only ever
    hold failed rows)."""
    for batch in written:
        run.mark_done(np.asarray([row[_INDEX] for row in batch.rows], dtype=np.int64))
        run.board.add_failures(len(batch), batch.shared[_CATEGORY])
        TASKS_FAILED.inc(len(batch))


def _commit_last(
    run: JobRun, prepared: Prepared, last: TaskBatch, *, owner: str, lease_seconds: float,
    elapsed: float,
) -> WriteOutcome:
    now = utcnow()
    queue_wait: float | None = None
    file = prepared.file if prepared.file is not None else _failure_file(run, last)
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=run.job_id, for_update=True)
        if not _held(job, owner):
            _discard(run, file)
            return WriteOutcome(held=False, status=job.status if job else None)
        assert job is not None
        tasks.insert_tasks(session=session, batch=last)
        tasks.insert_results(session=session, rows=prepared.result_rows)
        _add(session, run, file)
        job.summary = prepared.board.to_summary()
        job.updated_at = now
        job.lease_expires_at = now + timedelta(seconds=lease_seconds)
        if prepared.finished:
            queue_wait = _stamp_start(job, now - timedelta(seconds=elapsed))
        withdrawn = _settle(job, run, prepared.board, prepared.indices)
        if prepared.board.folds is not None:  # folds that stopped with this chunk
            job.summary = prepared.board.to_summary()
        session.add(job)
        status = job.status
    run.board = prepared.board
    run.mark_done(prepared.indices)
    if len(withdrawn):  # folds that stopped: their other combinations never run
        run.mark_done(withdrawn)
    TASKS_FINISHED.inc(prepared.finished)
    TASKS_FAILED.inc(prepared.failed)
    if queue_wait is not None:
        QUEUE_WAIT.observe(queue_wait)
        run.started = True
    if status != JobStatus.RUNNING.value:
        observe_terminal(job)
    return WriteOutcome(held=True, status=status, written=prepared.finished + prepared.failed)


def write_success(
    run: JobRun, result: ChunkResult, *, owner: str, lease_seconds: float, store: ArtifactStore
) -> WriteOutcome:
    prepared = prepare_success(run, result, store=store, now=utcnow(), skip=set())
    outcome = commit_chunk(run, prepared, owner=owner, lease_seconds=lease_seconds,
                           elapsed=float(result.elapsed))
    if outcome.held:  # (not held: another orchestrator may own these combinations now)
        for index in prepared.unlinked:
            store.discard(run.job_id, task_id_for(run.job_id, index))
    return outcome


def write_failure(
    run: JobRun,
    indices: np.ndarray,
    *,
    error: str,
    category: str,
    attempts: int,
    owner: str,
    lease_seconds: float,
) -> WriteOutcome:
    prepared = prepare_failure(run, indices, error=error, category=category,
                               attempts=attempts, now=utcnow(), skip=set())
    return commit_chunk(run, prepared, owner=owner, lease_seconds=lease_seconds)


def finish_job(
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    owner: str,
    reason: str | None = None,
    error: str | None = None,
) -> bool:
    """Move a held job to a terminal status outside a chunk write (e.g. it cannot run).
    Return False when the job was no longer ours."""
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=job_id, for_update=True)
        if not _held(job, owner):
            return False
        assert job is not None
        transition(job, status, reason=reason, error=error)
        session.add(job)
    observe_terminal(job)
    return True

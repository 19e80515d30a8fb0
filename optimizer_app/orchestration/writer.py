"""Writing a chunk's outcome: one transaction per chunk, idempotent, guarded by the lease.

In that transaction: lock the job row, check that it is still ``running`` and leased to this
orchestrator (a job canceled, finished or taken over gets nothing more), insert the task rows
not stored yet (metrics included) and the result summaries of those that got artifacts,
update the summary, renew the lease, and apply the early-stop rules and completion — so a terminal status and the final summary are written
together, and nothing is written after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session

from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import QUEUE_WAIT, TASKS_FAILED, TASKS_FINISHED
from optimizer_app.domain.policy import stop_reason
from optimizer_app.domain.worker import ChunkResult
from optimizer_app.orchestration.artifacts import ArtifactStore, artifact_kind
from optimizer_app.orchestration.board import Board, Entry
from optimizer_app.orchestration.jobrun import JobRun
from optimizer_app.orchestration.rows import (
    RESULT_ID_POSITION,
    clean_scores,
    link_results,
    metrics_of,
    params_json,
    task_rows,
)
from optimizer_app.orchestration.transitions import observe_terminal, transition
from optimizer_app.persistence import jobs, tasks
from optimizer_app.persistence.db import get_engine, session_scope
from optimizer_app.persistence.models import JobStatus, OptimizationJob, TaskStatus, utcnow
from optimizer_app.persistence.tasks import (
    ROW_COLUMNS,
    SHARED_COLUMNS,
    TaskBatch,
    task_id_for,
    timestamp_text,
)


@dataclass
class Prepared:
    board: Board
    indices: np.ndarray
    task_rows: TaskBatch
    result_rows: list[tuple[Any, ...]]
    finished: int = 0
    failed: int = 0


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
) -> list[dict[str, str]]:
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


def _best_first(scores: np.ndarray, indices: np.ndarray, mode: str) -> list[int]:
    """Positions of the finite scores, best first (ties: lower index first), as the worker
    ranks them when it picks which rows get artifacts."""
    finite = np.flatnonzero(np.isfinite(scores))
    key = -scores[finite] if mode == "max" else scores[finite]
    return finite[np.lexsort((indices[finite], key))].tolist()  # type: ignore[no-any-return]


def _texts(encoded: list[str], positions: np.ndarray, rows: int, what: str) -> list[str]:
    """The worker's JSON texts (one per row of the chunk) of the rows at ``positions``."""
    if len(encoded) != rows:
        raise ValueError(f"the chunk result holds {len(encoded)} {what} texts for {rows} rows")
    if len(positions) == len(encoded) and _in_order(positions):
        return encoded
    return [encoded[p] for p in positions.tolist()]


def _in_order(positions: np.ndarray) -> bool:
    return bool(positions[0] == 0 and (np.diff(positions) == 1).all()) if len(positions) else True


def _dialect() -> str:
    return get_engine().dialect.name


def prepare_success(
    run: JobRun, result: ChunkResult, *, store: ArtifactStore, now: datetime, skip: set[int]
) -> Prepared:
    """Rows and the updated board for a finished chunk (artifact files written for every
    result that enters the Top-N). Combinations already stored are skipped."""
    indices = np.asarray(result.indices, dtype=np.int64)
    order = np.argsort(indices, kind="stable")
    keep = ~run.done[indices[order]]
    if skip:
        keep &= ~np.isin(indices[order], np.fromiter(skip, dtype=np.int64))
    positions = order[keep]
    chosen = indices[positions]
    chosen_list = chosen.tolist()
    raw_scores = np.asarray(result.scores, dtype=np.float64)[positions]
    board = run.board.copy()
    if result.passes is None:
        ranked = raw_scores
        board.record(raw_scores)
    else:  # rows failing a result constraint are stored without a score and never ranked
        passes = np.asarray(result.passes, dtype=bool)[positions]
        ranked = np.where(passes, raw_scores, np.nan)
        board.record(raw_scores[passes])
        board.add_constrained(int(passes.size - np.count_nonzero(passes)))
    scores = clean_scores(ranked)
    metrics = _texts(result.metrics_json(), positions, len(indices), "metrics")
    links: dict[int, list[dict[str, str]]] = {}
    for k in _best_first(ranked, chosen, board.mode):
        index = chosen_list[k]
        task_id = task_id_for(run.job_id, index)
        entry = Entry(
            str(task_id), index, scores[k], run.grid.params_at(index),  # type: ignore[arg-type]
            metrics_of(metrics[k]),
        )
        if not board.offer(entry):
            break  # the rest of the chunk scores no better
        links[k] = _artifacts_for(run, store, task_id, index, result.artifacts.get(index))
    dialect = _dialect()
    rows = task_rows(
        job_id=run.job_id,
        indices=chosen_list,
        params=_texts(result.params_json(), positions, len(indices), "parameter"),
        status=TaskStatus.SUCCEEDED,
        scores=scores,
        metrics=metrics,
        attempts=1,
        error=None,
        started_at=timestamp_text(now - timedelta(seconds=max(0.0, float(result.elapsed))),
                                  dialect=dialect),
        finished_at=timestamp_text(now, dialect=dialect),
    )
    results = link_results(rows, links)
    return Prepared(board, chosen, rows, results, finished=len(rows))


def prepare_failure(
    run: JobRun,
    indices: np.ndarray,
    *,
    error: str,
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
    board.add_failures(len(chosen))
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


def _settle(job: OptimizationJob, run: JobRun, board: Board) -> None:
    """Terminal status when the chunk completed the grid or tripped an early-stop rule."""
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


# Rows per write transaction. SQLite has one writer: every transaction here holds the lock
# for its statements only, and a slice of this many rows takes ~15-25 ms on the embedded
# default, so a request that writes (a sign-up, a submit) waits at most about that long.
WRITE_SLICE_ROWS = 4_096
_INDEX = ROW_COLUMNS.index("index")
_SCORE = ROW_COLUMNS.index("score")
_STATUS = SHARED_COLUMNS.index("status")


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


def _write_slice(run: JobRun, batch: TaskBatch, *, owner: str) -> WriteOutcome:
    """Insert one leading slice in a transaction of its own (nothing when the job is no
    longer ours)."""
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=run.job_id, for_update=True)
        if not _held(job, owner):
            return WriteOutcome(held=False, status=job.status if job else None)
        tasks.insert_tasks(session=session, batch=batch)
    return WriteOutcome(held=True, status=JobStatus.RUNNING.value, written=len(batch))


def commit_chunk(
    run: JobRun,
    prepared: Prepared,
    *,
    owner: str,
    lease_seconds: float,
    redo: Any,
    elapsed: float = 0.0,
) -> WriteOutcome:
    """Write ``prepared`` in short transactions (``WRITE_SLICE_ROWS`` rows each; the last one
    also writes the summary, the lease and the status); ``redo(skip)`` rebuilds it if some
    of its combinations turn out to be stored already (after a takeover race, or a slice
    written by an earlier try of the same chunk)."""
    with session_scope(readonly=True) as session:
        prepared = _dedupe(session, run, prepared, redo)
    head, last = _slices(prepared.task_rows, WRITE_SLICE_ROWS)
    written: list[TaskBatch] = []
    try:
        for batch in head:
            outcome = _write_slice(run, batch, owner=owner)
            if not outcome.held:
                return outcome
            written.append(batch)
        return _commit_last(run, prepared, last, owner=owner, lease_seconds=lease_seconds,
                            elapsed=elapsed)
    except Exception:
        _account_for(run, written)  # the chunk is sent again; these rows stay counted
        raise


def _account_for(run: JobRun, written: list[TaskBatch]) -> None:
    """Count slices already committed by a chunk write that then failed, so that the
    chunk's next try skips them and the summary still adds up."""
    succeeded = TaskStatus.SUCCEEDED.value
    for batch in written:
        run.mark_done(np.asarray([row[_INDEX] for row in batch.rows], dtype=np.int64))
        if batch.shared[_STATUS] == succeeded:
            run.board.record([row[_SCORE] for row in batch.rows])
            TASKS_FINISHED.inc(len(batch))
        else:
            run.board.add_failures(len(batch))
            TASKS_FAILED.inc(len(batch))


def _commit_last(
    run: JobRun, prepared: Prepared, last: TaskBatch, *, owner: str, lease_seconds: float,
    elapsed: float,
) -> WriteOutcome:
    now = utcnow()
    queue_wait: float | None = None
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=run.job_id, for_update=True)
        if not _held(job, owner):
            return WriteOutcome(held=False, status=job.status if job else None)
        assert job is not None
        tasks.insert_tasks(session=session, batch=last)
        tasks.insert_results(session=session, rows=prepared.result_rows)
        job.summary = prepared.board.to_summary()
        job.updated_at = now
        job.lease_expires_at = now + timedelta(seconds=lease_seconds)
        if prepared.finished:
            queue_wait = _stamp_start(job, now - timedelta(seconds=elapsed))
        _settle(job, run, prepared.board)
        session.add(job)
        status = job.status
    run.board = prepared.board
    run.mark_done(prepared.indices)
    TASKS_FINISHED.inc(prepared.finished)
    TASKS_FAILED.inc(prepared.failed)
    if queue_wait is not None:
        QUEUE_WAIT.observe(queue_wait)
        run.started = True
    if status != JobStatus.RUNNING.value:
        observe_terminal(job)
    return WriteOutcome(held=True, status=status, written=len(prepared.task_rows))


def _dedupe(session: Session, run: JobRun, prepared: Prepared, redo: Any) -> Prepared:
    if not prepared.indices.size:
        return prepared
    clash = tasks.stored_indices(
        session=session, job_id=run.job_id, indices=prepared.indices.tolist()
    )
    if not clash:
        return prepared
    logger.bind(job_id=str(run.job_id), count=len(clash)).warning(
        "combinations already stored; skipping them"
    )
    run.mark_done(np.fromiter(clash, dtype=np.int64))
    return redo(clash)  # type: ignore[no-any-return]


def write_success(
    run: JobRun, result: ChunkResult, *, owner: str, lease_seconds: float, store: ArtifactStore
) -> WriteOutcome:
    now = utcnow()
    prepared = prepare_success(run, result, store=store, now=now, skip=set())
    return commit_chunk(
        run,
        prepared,
        owner=owner,
        lease_seconds=lease_seconds,
        redo=lambda skip: prepare_success(run, result, store=store, now=now, skip=skip),
        elapsed=float(result.elapsed),
    )


def write_failure(
    run: JobRun,
    indices: np.ndarray,
    *,
    error: str,
    attempts: int,
    owner: str,
    lease_seconds: float,
) -> WriteOutcome:
    now = utcnow()

    def build(skip: set[int]) -> Prepared:
        return prepare_failure(run, indices, error=error, attempts=attempts, now=now, skip=skip)

    return commit_chunk(run, build(set()), owner=owner, lease_seconds=lease_seconds, redo=build)


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

"""Compacting a finished job's results files into one file sorted best first.

While a job runs it has one results file per chunk; once it is terminal (any terminal status)
— and, for a job of at most ``DEFERRED_ROWS`` rows, once the orchestrator runs no job —
a background thread of the orchestrator rewrites them (DuckDB streams and sorts them within
bounded memory) as its rows best first, in index order, and the pair aggregates; swaps the
manifest in one short transaction — only if the job still exists and its files are still the
ones read — and removes the old files and any file that was never committed
``REMOVE_AFTER_SECONDS`` later, so that a page being read from the old files meanwhile still
finds them. Safe to repeat and to run from several orchestrators.

A job of more than ``IN_PROCESS_ROWS`` rows is rewritten in a child process of the
orchestrator, at low priority (niceness 10, as the local workers), started when there is such
work and stopped after ``IDLE_SECONDS`` without any: the sort and the aggregates use up to
DuckDB's memory limit, and memory a process has used is not given back to the system while it
lives — in the orchestrator it would stay taken for as long as the orchestrator runs. Smaller
jobs are rewritten in the orchestrator's own thread, within tens of megabytes: a child's start
(~1 s of imports) would cost more than their whole compaction.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from sqlmodel import col, func, select

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.core.priority import lower_this_thread
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import (
    TERMINAL_STATUSES,
    OptimizationJob,
    ResultFile,
)

__all__ = ["Compactor", "compact_job", "jobs_to_compact"]

BATCH = 10  # jobs looked at per pass
REMOVE_AFTER_SECONDS = 30.0
IN_PROCESS_ROWS = 262_144  # larger jobs are rewritten in the child process
IDLE_SECONDS = 60.0  # the compacting child exits after this long without work
CHILD_NICENESS = 10
# While the orchestrator runs jobs, a finished job of at most this many rows waits to be
# compacted until it runs none: its per-chunk files read fast as they are (one row group's
# worth), and rewriting them (three files, by DuckDB) took ~50 ms of CPU per small job on a
# busy 2-core machine, taken from the jobs running (60 small jobs ending during a big one: ~3
# CPU-seconds).
DEFERRED_ROWS = 65_536

Rewrite = Callable[[results_store.JobResults, bool], list[results_store.NewFile]]


def jobs_to_compact(limit: int = BATCH, *, more_rows_than: int = 0) -> list[uuid.UUID]:
    """Terminal jobs that still have per-chunk files (holding more than ``more_rows_than``
    rows in them)."""
    with session_scope(readonly=True) as session:
        rows = session.exec(
            select(ResultFile.job_id)
            .join(OptimizationJob, col(OptimizationJob.id) == col(ResultFile.job_id))
            .where(col(ResultFile.kind) == "chunk",
                   col(OptimizationJob.status).in_([s.value for s in TERMINAL_STATUSES]))
            .group_by(col(ResultFile.job_id))
            .having(func.sum(col(ResultFile.rows)) > more_rows_than)
            .limit(limit)
        ).all()
    return list(rows)


def _rewrite_here(results: results_store.JobResults, descending: bool
                  ) -> list[results_store.NewFile]:
    return results_store.compact_files(results, descending=descending)


def compact_job(job_id: uuid.UUID, *, later: Callable[[uuid.UUID, list[str]], None] | None = None,
                rewrite: Rewrite = _rewrite_here) -> bool:
    """Compact one terminal job's files; False when there was nothing to do or the job
    changed meanwhile (deleted, already compacted elsewhere). The files it replaces are
    removed at once, or handed to ``later(job_id, names to keep)``. ``rewrite`` writes the new
    files (in this process unless told otherwise)."""
    remove = later or (lambda job, keep: results_store.remove_orphans(job, keep=keep))
    with session_scope(readonly=True) as session:
        job = session.get(OptimizationJob, job_id)
        if job is None:
            return False
        mode = (job.early_stop_policy or {}).get("mode", "max")
        current = results_store.job_results(session=session, job_id=job_id)
    if not current.names or current.compacted:
        return False
    made = rewrite(current, mode != "min")
    with session_scope() as session:
        job = jobs.get_job(session=session, job_id=job_id, for_update=True)
        now = results_store.job_results(session=session, job_id=job_id)
        if job is None or now.all_names != current.all_names:
            remove(job_id, list(now.all_names))
            return False
        results_store.replace_files(session=session, job_id=job_id, old=current.all_names,
                                    new=made)
    remove(job_id, [f.name for f in made])
    logger.bind(job_id=str(job_id), files=len(current.names), rows=made[0].rows,
                bytes=sum(f.size for f in made)).info("results compacted")
    return True


def _start_child() -> None:
    lower_this_thread(CHILD_NICENESS)  # (its only thread yet: DuckDB's start from it)


def _rewrite_in_child(root: str, results: results_store.JobResults, descending: bool
                      ) -> list[results_store.NewFile]:
    """Runs in the child: the parent's results folder, whatever the child's settings say."""
    settings.__dict__["resolved_results_dir"] = Path(root)
    return results_store.compact_files(results, descending=descending)


class _Child:
    """The compacting child process, started on first use and stopped when idle."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._used = 0.0

    def rewrite(self, results: results_store.JobResults, descending: bool
                ) -> list[results_store.NewFile]:
        if results.rows <= IN_PROCESS_ROWS:
            return _rewrite_here(results, descending)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child)
        try:
            return self._pool.submit(_rewrite_in_child, str(results_store.root()), results,
                                     descending).result()
        except BrokenProcessPool:  # the child died (killed, out of memory): a new one next time
            self.stop()
            raise
        finally:
            self._used = time.monotonic()

    def stop_if_idle(self) -> None:
        if self._pool is not None and time.monotonic() - self._used >= IDLE_SECONDS:
            self.stop()

    def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # a rewrite still running is abandoned: its files are never committed and are removed
        # as orphans by the next compaction of that job
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


class Compactor:
    """One background thread that compacts finished jobs when poked, and removes the files
    they replaced ``REMOVE_AFTER_SECONDS`` later."""

    def __init__(self) -> None:
        self._removals: deque[tuple[float, uuid.UUID, list[str]]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._child = _Child()
        self._worked = 0.0  # when a job was last compacted (in this process or the child)
        self._busy = False  # the orchestrator runs jobs: small ones wait (DEFERRED_ROWS)
        self._thread = threading.Thread(target=self._run, name="compact-results", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self, *, busy: bool = False) -> None:
        """Look for finished jobs to compact now; ``busy``: jobs are running here, so only
        those of more than ``DEFERRED_ROWS`` rows."""
        self._busy = busy
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._child.stop()  # ends a rewrite in progress at once
        self._thread.join(timeout=10)
        self._remove_due(everything=True)

    def _run(self) -> None:
        # Housekeeping: behind the orchestrator's other threads and the web server, level with
        # the backtests (DuckDB's threads, started from this one, inherit it).
        lower_this_thread(CHILD_NICENESS)
        try:
            while not self._stop.is_set():
                self._wake.wait(timeout=IDLE_SECONDS)
                self._wake.clear()
                try:
                    self._remove_due()
                    deferred = DEFERRED_ROWS if self._busy else 0
                    for job_id in jobs_to_compact(more_rows_than=deferred):
                        if self._stop.is_set():
                            return
                        if compact_job(job_id, later=self._remove_later,
                                       rewrite=self._child.rewrite):
                            self._worked = time.monotonic()
                except Exception:
                    logger.opt(exception=True).warning("compacting results failed; will retry")
                self._child.stop_if_idle()
                if time.monotonic() - self._worked >= IDLE_SECONDS:
                    # the small jobs' DuckDB instance keeps the memory of its last sort
                    results_store.close_compaction_engine()
        finally:
            self._child.stop()
            results_store.close_compaction_engine()

    def _remove_later(self, job_id: uuid.UUID, keep: list[str]) -> None:
        self._removals.append((time.monotonic() + REMOVE_AFTER_SECONDS, job_id, keep))

    def _remove_due(self, *, everything: bool = False) -> None:
        while self._removals and (everything or self._removals[0][0] <= time.monotonic()):
            _, job_id, keep = self._removals.popleft()
            results_store.remove_orphans(job_id, keep=keep)

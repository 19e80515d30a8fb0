"""The orchestrator: a loop service that claims jobs, feeds their chunks to Dask workers and
writes what comes back.

Each :meth:`Orchestrator.run_once` tick: re-read the held jobs (cancel, lost lease) every
``poll_seconds``, renew leases, claim new jobs every ``claim_seconds``, top up the chunks in
flight (``chunks_per_worker`` per worker thread, round-robin by chunk across jobs, so a small
job is never stuck behind a large one), then wait briefly for finished chunks and write them.
The database is the source of truth: everything in memory can be rebuilt from it, which is
what a takeover after a crash does."""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import numpy as np
from distributed import Future

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import JOBS_LIVE
from optimizer_app.domain.failures import FailureCategory
from optimizer_app.domain.worker import ChunkResult, ChunkTask
from optimizer_app.orchestration.artifacts import ArtifactStore, get_artifact_store
from optimizer_app.orchestration.compaction import Compactor
from optimizer_app.orchestration.deletion import apply_retention, sweep_orphans
from optimizer_app.orchestration.executor import ChunkFunction, Executor, load_chunk_function
from optimizer_app.orchestration.failures import (
    Verdict,
    decide_cancelled,
    decide_error,
    timeout_message,
)
from optimizer_app.orchestration.jobrun import JobRun
from optimizer_app.orchestration.leases import MAX_HELD_JOBS, claim_jobs, new_owner_id
from optimizer_app.orchestration.loading import JobCannotRun, open_run
from optimizer_app.orchestration.memory import release_free_memory
from optimizer_app.orchestration.sharing import over_share
from optimizer_app.orchestration.validation import ValidationSweeper
from optimizer_app.orchestration.writer import (
    WriteOutcome,
    finish_job,
    write_failure,
    write_success,
)
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence import reserve as disk_reserve
from optimizer_app.persistence.db import CommitWatch, WalCheckpointer, session_scope
from optimizer_app.persistence.models import JobStatus, utcnow
from optimizer_app.persistence.storage_errors import permanent_storage_error

PREFETCHED = 2  # results fetched from the workers ahead of the one being written
WATCH_SECONDS = 0.05  # while idle, how often to look whether a job may have been submitted
# While idle with a commit watch (SQLite), how often to claim anyway: a submit is seen by the
# watch within WATCH_SECONDS; this only finds leases that expired (an orchestrator gone). Ten
# claims a second were most of an idle orchestrator's CPU (~7% of a core, with the watch).
IDLE_CLAIM_SECONDS = 1.0
COMPACT_EVERY_SECONDS = 2.0  # how often finished jobs' results files are looked for
# How often old finished jobs (when retention is on) and folders of deleted jobs are looked for.
RETENTION_EVERY_SECONDS = 600.0


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a chunk is written: its ~16,000 rows are new objects at
    once, which set off collections of the whole process (~0.08 s per 100,000 combinations);
    nothing cyclic is left behind, and collection resumes right after."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class Completed:
    """A chunk that finished, failed or was cancelled, with its result already fetched."""

    future: Future
    result: ChunkResult | None = None
    lost: Exception | None = None  # it finished, but its result died with its worker
    holds_room: bool = False  # counts against PREFETCHED until written


@dataclass
class InFlight:
    job_id: uuid.UUID
    future: Future
    indices: np.ndarray
    submitted: float
    alone: bool = False  # a suspect run with nothing else in flight


class Orchestrator:
    def __init__(
        self,
        *,
        executor: Executor,
        owner: str | None = None,
        lease_seconds: float | None = None,
        chunk_target_seconds: float | None = None,
        chunks_per_worker: int = 2,
        max_jobs: int = MAX_HELD_JOBS,
        tick_seconds: float = 0.1,
        poll_seconds: float = 0.25,
        claim_seconds: float = 0.1,
        overrun_seconds: float = 1.0,
        store: ArtifactStore | None = None,
        chunk_function: ChunkFunction | str | None = None,
        chunk_timeout_seconds: float | None = None,
    ) -> None:
        self.executor = executor
        self.chunk_function = (
            load_chunk_function(chunk_function)
            if isinstance(chunk_function, str)
            else chunk_function or executor.chunk_function
        )
        self.owner = owner or new_owner_id()
        self.lease_seconds = lease_seconds or settings.lease_seconds
        self.chunk_target_seconds = chunk_target_seconds or settings.chunk_target_seconds
        self.chunks_per_worker = chunks_per_worker
        self.max_jobs = max_jobs
        self.tick_seconds = tick_seconds
        self.poll_seconds = poll_seconds
        self.claim_seconds = claim_seconds
        self.overrun_seconds = overrun_seconds
        self.chunk_timeout_seconds = chunk_timeout_seconds or settings.chunk_timeout_seconds
        self.store = store or get_artifact_store()
        self.runs: dict[uuid.UUID, JobRun] = {}
        self.claimed: deque[uuid.UUID] = deque(maxlen=1000)  # jobs it took, latest last
        self.in_flight: dict[str, InFlight] = {}
        self._rotation: deque[uuid.UUID] = deque()
        # Jobs failed for a reason no retry fixes, whose status write has not landed yet.
        self._failing: dict[uuid.UUID, str] = {}
        self._checkpointer = WalCheckpointer()
        self._checkpoints_paused = False
        self._next_poll = 0.0
        self._next_renew = 0.0
        self._next_claim = 0.0
        self._next_retention = 0.0
        self._next_compaction = 0.0
        self._compactor = Compactor()
        self._generation = executor.generation
        # Not a SimpleQueue: on Python 3.11 its get(timeout=...) can block forever when a
        # signal handler runs during the wait (e.g. SIGTERM asking this process to stop).
        self._completed: queue.Queue[Completed] = queue.Queue()
        # Results are fetched from the workers as soon as a chunk finishes, by these threads,
        # while the main thread writes the previous ones (a fetch is a network round trip).
        # At most PREFETCHED results wait in memory; the rest stay on the workers until then.
        self._fetcher = ThreadPoolExecutor(PREFETCHED, thread_name_prefix="fetch-results")
        self._fetch_room = threading.Semaphore(PREFETCHED)
        self._stopping = threading.Event()
        # While nothing is in flight, a commit seen by this watch (a job submitted, on SQLite)
        # makes the next tick claim at once rather than after up to ``claim_seconds``.
        self._watch: CommitWatch | None = None
        self.validations = ValidationSweeper()  # out-of-sample results of ended jobs
        self.log = logger.bind(owner=self.owner)

    # -- the loop -------------------------------------------------------------------------------

    def run_once(self) -> None:
        started = time.monotonic()
        try:
            self._tick()
        except Exception:
            logger.exception("orchestrator tick failed")
            time.sleep(self.tick_seconds)
        elapsed = time.monotonic() - started
        if elapsed > self.overrun_seconds:
            self.log.bind(seconds=round(elapsed, 3)).warning("orchestrator tick overran")

    def run_forever(self, stop: threading.Event) -> None:
        self.log.info("orchestrator started")
        disk_reserve.hold()
        checkpointer = self._checkpointer
        checkpointer.start()
        self._compactor.start()
        self._watch = CommitWatch()
        try:
            while not stop.is_set():
                self.run_once()
        finally:
            self.shutdown()
            self._compactor.stop()
            checkpointer.stop()
            self._watch.close()

    def shutdown(self) -> None:
        """Withdraw everything in flight and give the leases back for another orchestrator."""
        held = list(self.runs)
        for job_id in held:
            self._drop(job_id)
        if held:
            try:
                with session_scope() as session:
                    jobs.release_leases(session=session, owner=self.owner, job_ids=held)
            except Exception:
                self.log.opt(exception=True).warning("releasing leases failed")
        self._stopping.set()
        self._fetcher.shutdown(wait=False, cancel_futures=True)
        self.validations.shutdown()
        self.log.bind(jobs=len(held)).info("orchestrator stopped")

    def _tick(self) -> None:
        connected = self.executor.ensure_connected()
        if connected and self.executor.generation != self._generation:
            self._on_reconnect()
        now = time.monotonic()
        if now >= self._next_poll:  # cancel and leases are honoured even while disconnected
            self._write_failures()
            self._poll()
            self._next_poll = now + self.poll_seconds
        if now >= self._next_retention:
            self._next_retention = now + RETENTION_EVERY_SECONDS
            apply_retention(settings.retention_days)
            try:
                sweep_orphans()
            except Exception as exc:  # noqa: BLE001 - housekeeping; the next pass tries again
                self.log.bind(error=str(exc)).warning("sweeping folders of deleted jobs failed")
        if now >= self._next_compaction:
            self._next_compaction = now + COMPACT_EVERY_SECONDS
            self._compactor.poke(busy=bool(self.runs))
        self.validations.run_once()
        if connected:
            if now >= self._next_claim:
                self._claim()
                watched = not self.runs and self._watch is not None and self._watch.watching
                self._next_claim = now + max(self.claim_seconds,
                                             IDLE_CLAIM_SECONDS if watched else 0.0)
            self._dispatch()
        self._collect(self.tick_seconds)
        self._expire()
        JOBS_LIVE.set(len(self.runs))

    # -- holding jobs ---------------------------------------------------------------------------

    def _claim(self) -> None:
        free = self.max_jobs - len(self.runs)
        claimed = claim_jobs(
            owner=self.owner, limit=free, lease_seconds=self.lease_seconds,
            exclude=set(self.runs) | set(self._failing),
        )
        for job in claimed:
            log = self.log.bind(job_id=str(job.id))
            try:
                run = open_run(job, chunk_target_seconds=self.chunk_target_seconds)
            except JobCannotRun as exc:
                log.bind(error=str(exc)).warning("job cannot run")
                finish_job(job.id, JobStatus.FAILED, owner=self.owner, error=str(exc))
                continue
            self.runs[job.id] = run
            self.claimed.append(job.id)
            self._rotation.append(job.id)
            log.bind(total=run.total, remaining=len(run.todo), resumed=job.resumed).info(
                "job claimed"
            )
            if run.is_complete():
                self._settle_without_work(run)

    def _fail_held(self, job_id: uuid.UUID, error: str) -> None:
        """Fail a held job for a reason no retry fixes (e.g. a full disk): its work is
        withdrawn at once; the status write is tried again on every tick until it lands
        (on a full disk even that small write may fail for a while)."""
        self._drop(job_id)
        self._failing[job_id] = error
        # While the failure is recorded, no checkpoint may take the space the reserve frees
        # (copying the WAL into a growing database file would eat it first).
        self._checkpointer.stop()
        self._checkpoints_paused = True
        if disk_reserve.release():  # room for the status and the reason
            self.log.info("disk reserve released to record the failure")
        self._write_failures()

    def _write_failures(self) -> None:
        for job_id, error in list(self._failing.items()):
            try:
                finish_job(job_id, JobStatus.FAILED, owner=self.owner, error=error)
            except Exception as exc:
                self.log.bind(job_id=str(job_id), error=str(exc)).warning(
                    "could not record the job's failure yet; trying again"
                )
                return
            self._failing.pop(job_id, None)
        if not self._failing:
            if self._checkpoints_paused:
                self._checkpoints_paused = False
                self._checkpointer.start()
            disk_reserve.hold()  # again, once there is room

    def _settle_without_work(self, run: JobRun) -> None:
        """A taken-over job whose every combination is already written."""
        status = JobStatus.SUCCEEDED if run.board.finished else JobStatus.FAILED
        error = None if run.board.finished else "every combination failed; see the tasks"
        reason = run.board.folds.reason() if run.board.folds is not None else None
        if run.board.finished and reason:  # walk-forward folds that stopped early
            status = JobStatus.EARLY_STOPPED
        finish_job(run.job_id, status, owner=self.owner, error=error, reason=reason)
        self._drop(run.job_id)

    def _poll(self) -> None:
        if not self.runs:
            return
        with session_scope(readonly=True) as session:
            polled = jobs.poll_jobs(session=session, job_ids=list(self.runs))
        for job_id in list(self.runs):
            state = polled.get(job_id)
            if state is None or state.status != JobStatus.RUNNING.value:
                status = state.status if state else "deleted"
                self.log.bind(job_id=str(job_id), status=status).info("job ended elsewhere")
                self._drop(job_id)
            elif state.lease_owner != self.owner:
                self.log.bind(job_id=str(job_id), holder=state.lease_owner).warning(
                    "lease lost to another orchestrator"
                )
                self._drop(job_id)
        now = time.monotonic()
        if self.runs and now >= self._next_renew:
            with session_scope() as session:
                jobs.renew_leases(
                    session=session,
                    owner=self.owner,
                    job_ids=list(self.runs),
                    until=utcnow() + timedelta(seconds=self.lease_seconds),
                )
            self._next_renew = now + self.lease_seconds / 3

    def _drop(self, job_id: uuid.UUID) -> None:
        """Forget a job: withdraw its pending chunks; results still arriving are discarded."""
        run = self.runs.pop(job_id, None)
        if run is None:
            return
        futures = [self.in_flight.pop(key).future for key in list(run.in_flight)]
        run.in_flight.clear()
        self.executor.cancel(futures)
        run.data_future = None
        with contextlib.suppress(ValueError):
            self._rotation.remove(job_id)
        if not self.runs:
            release_free_memory()

    # -- sending chunks -------------------------------------------------------------------------

    def _next_run(self, workers: int) -> JobRun | None:
        """The next job (round-robin) with combinations to send. A job whose first chunks
        have not come back yet has at most one chunk per worker in flight: its chunk size
        is still a guess, and the next ones are sized from what the first took."""
        for _ in range(len(self._rotation)):
            job_id = self._rotation[0]
            self._rotation.rotate(-1)
            run = self.runs.get(job_id)
            if run is None or not run.has_unsent():
                continue
            if not run.sizer.observed and len(run.in_flight) >= workers:
                continue
            if over_share(run, self.runs, self.in_flight, workers * self.chunks_per_worker):
                continue
            return run
        return None

    def _dispatch(self) -> None:
        workers = self.executor.capacity()
        if workers <= 0:
            return  # every worker is down (restarting): nothing can run or hold data
        if any(flight.alone for flight in self.in_flight.values()):
            return  # a suspect runs alone
        suspect = next((run for run in self.runs.values() if run.suspects), None)
        if suspect is not None:
            if not self.in_flight and self._ensure_data(suspect):
                self._submit(suspect, suspect.suspects.popleft(), alone=True)
            return  # let the rest drain first
        self._start_newcomers(workers)
        slots = workers * self.chunks_per_worker
        while len(self.in_flight) < slots:
            run = self._next_run(workers)
            if run is None:
                return
            if not self._ensure_data(run):
                return
            indices = run.next_indices(workers=workers)
            if indices is None or not indices.size:
                continue
            self._submit(run, indices)

    def _start_newcomers(self, workers: int) -> None:
        """A job that has sent nothing yet gets its first chunk at once, beyond the slots and
        ahead of the chunks waiting on the workers: next to a big job, a new one starts as
        soon as a worker finishes the chunk it is running."""
        for run in list(self.runs.values()):
            if run.chunks_sent or not run.has_unsent() or not self._ensure_data(run):
                continue
            indices = run.next_indices(workers=workers)
            if indices is not None and indices.size:
                self._submit(run, indices, priority=1)

    def _ensure_data(self, run: JobRun) -> bool:
        """The job's bars on the workers: scattered once for every job on the same bars (and
        again after a loss)."""
        if run.data_future is not None and run.data_generation == self.executor.generation:
            return True
        try:
            run.data_future = self.executor.scatter_bars(run.bars)
        except Exception as exc:
            self.log.bind(job_id=str(run.job_id), error=str(exc)).warning(
                "could not send the dataset to the workers; trying again"
            )
            return False
        run.data_generation = self.executor.generation
        return True

    def _lose_data(self, run: JobRun) -> None:
        run.data_future = None
        self.executor.forget_bars(run.bars)

    def _artifacts_dir(self, job_id: uuid.UUID) -> str:
        """Where the workers write the job's artifact files themselves: local workers, when
        the store allows it; otherwise "" (the files come back with the chunk, ~100 KB an
        equity curve, and are stored here)."""
        folder = self.store.worker_folder(job_id) if self.executor.local else None
        return str(folder or "")

    def _submit(self, run: JobRun, indices: np.ndarray, *, alone: bool = False,
                priority: int = 0) -> None:
        task = ChunkTask(
            job_id=str(run.job_id),
            strategy=run.strategy,
            raw_space=run.raw_space,
            indices=indices,
            options=run.options,
            metric=run.policy.metric,
            mode=run.policy.mode,
            top_n=run.policy.top_n,
            threshold=run.board.threshold,
            constraints=run.constraints,
            results_dir=str(results_store.job_dir(run.job_id)),
            artifacts_dir=self._artifacts_dir(run.job_id),
            fold_size=run.fold_size,
            windows=run.windows,
        )
        key = f"chunk-{self.owner.rsplit(':', 1)[-1]}-{run.job_id.hex[:12]}-{run.chunks_sent}"
        run.chunks_sent += 1
        try:
            future = self.executor.submit(
                task,
                run.data_future,
                key=key,
                on_done=self._on_done,
                function=self.chunk_function,
                priority=priority,
            )
        except Exception:
            (run.suspects if alone else run.retry).appendleft(indices)
            raise
        self.in_flight[key] = InFlight(run.job_id, future, indices, time.monotonic(), alone)
        run.in_flight[key] = indices

    def _on_reconnect(self) -> None:
        """A new Dask connection: what was in flight (and scattered) is gone; send it again."""
        self.log.bind(chunks=len(self.in_flight)).warning("dask reconnected; resubmitting")
        for key, flight in list(self.in_flight.items()):
            run = self.runs.get(flight.job_id)
            if run is not None:
                run.in_flight.pop(key, None)
                run.give_back(flight.indices)
        self.in_flight.clear()
        for run in self.runs.values():
            run.data_future = None
        self._generation = self.executor.generation

    def _expire(self) -> None:
        """Give up the chunks not back within ``chunk_timeout_seconds`` of being sent: their
        combinations fail as ``timeout``. (Dask cannot interrupt a running task: a chunk
        that is still running finishes on its worker, and its result is discarded.)"""
        limit = self.chunk_timeout_seconds
        now = time.monotonic()
        for key, flight in list(self.in_flight.items()):
            if now - flight.submitted <= limit or key not in self.in_flight:
                continue
            self.in_flight.pop(key)
            self.executor.cancel([flight.future])
            run = self.runs.get(flight.job_id)
            if run is None:
                continue
            run.in_flight.pop(key, None)
            self.log.bind(job_id=str(run.job_id), tasks=len(flight.indices),
                          seconds=limit).warning("chunk timed out")
            write = partial(self._write_failed, run, flight.indices, timeout_message(limit),
                            FailureCategory.TIMEOUT.value, 1)
            outcome = self._guarded_write(run, flight.indices, write)
            if outcome is not None:
                self._after_write(run, outcome)

    # -- receiving results ----------------------------------------------------------------------

    def _on_done(self, future: Future) -> None:  # Dask's callback thread
        with contextlib.suppress(RuntimeError):  # shutting down
            self._fetcher.submit(self._fetch, future)

    def _fetch(self, future: Future) -> None:  # a fetcher thread
        done = Completed(future)
        if future.status == "finished":
            while not self._fetch_room.acquire(timeout=0.25):
                if self._stopping.is_set():
                    return
            done.holds_room = True
            try:
                done.result = future.result(timeout=60)
            except Exception as exc:
                done.lost = exc
        self._completed.put(done)

    def _next_completed(self, timeout: float) -> Completed | None:
        """The next fetched chunk, waiting up to ``timeout``; while idle, the wait ends early
        when the database changed, and the next tick then claims at once."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            watch = self._watch if not self.in_flight else None
            wait = deadline - time.monotonic()
            try:
                return self._completed.get(
                    timeout=max(0.0, min(wait, WATCH_SECONDS) if watch else wait)
                )
            except queue.Empty:
                pass
            if watch is None or time.monotonic() >= deadline:
                return None
            if watch.changed():
                self._next_claim = 0.0
                return None

    def _collect(self, timeout: float) -> None:
        done = self._next_completed(timeout)
        budget = time.monotonic() + max(0.25, self.poll_seconds)
        while done is not None:
            self._handle(done)
            if self.executor.connected():
                self._dispatch()  # keep the workers busy while we write
            if time.monotonic() > budget:
                return
            done = self._next_completed(0.0)

    def _handle(self, done: Completed) -> None:
        try:
            self._handle_completed(done)
        finally:
            done.result = None
            if done.holds_room:
                self._fetch_room.release()

    def _handle_completed(self, done: Completed) -> None:
        future = done.future
        flight = self.in_flight.pop(str(future.key), None)
        if flight is None:
            return  # withdrawn: its job was canceled, stopped or dropped
        run = self.runs.get(flight.job_id)
        if run is None:
            return
        run.in_flight.pop(str(future.key), None)
        outcome = self._guarded_write(run, flight.indices, lambda: self._write(run, flight, done))
        if outcome is not None:
            self._after_write(run, outcome)

    def _guarded_write(self, run: JobRun, indices: np.ndarray,
                       write: Callable[[], WriteOutcome | None]) -> WriteOutcome | None:
        """Run ``write()``; a storage error no retry fixes fails the job, another one gives
        the combinations back to be sent again."""
        try:
            with _collector_paused():
                return write()
        except Exception as exc:
            reason = permanent_storage_error(exc)
            if reason:  # retrying cannot help: the job fails, and says why
                self.log.bind(job_id=str(run.job_id), error=reason).error("storage is full")
                self._fail_held(run.job_id, reason)
                return None
            self.log.bind(job_id=str(run.job_id)).exception("writing a chunk failed; resending it")
            run.give_back(indices)
            return None

    def _after_write(self, run: JobRun, outcome: WriteOutcome) -> None:
        if not outcome.held:
            self.log.bind(job_id=str(run.job_id), status=outcome.status).info(
                "job no longer held; discarding its results"
            )
            self._drop(run.job_id)
        elif outcome.status != JobStatus.RUNNING.value:
            self.log.bind(job_id=str(run.job_id), status=outcome.status,
                          chunks=run.chunks_sent).info("job finished")
            self._drop(run.job_id)

    def _write_failed(self, run: JobRun, indices: np.ndarray, error: str, category: str,
                      attempts: int) -> WriteOutcome:
        return write_failure(run, indices, error=error, category=category, attempts=attempts,
                             owner=self.owner, lease_seconds=self.lease_seconds)

    def _write_result(self, run: JobRun, result: ChunkResult) -> WriteOutcome | None:
        """A chunk's failed combinations (one write per category and message), then the
        ones that ran."""
        outcome: WriteOutcome | None = None
        for failed in result.failures:
            self.log.bind(job_id=str(run.job_id), tasks=len(failed.indices),
                          category=failed.category, reason=failed.message).warning(
                "combinations failed")
            outcome = self._write_failed(run, failed.indices, failed.message, failed.category, 1)
            if not outcome.held or outcome.status != JobStatus.RUNNING.value:
                return outcome
        if len(result.indices) or outcome is None:
            outcome = write_success(
                run, result, owner=self.owner, lease_seconds=self.lease_seconds, store=self.store
            )
        return outcome

    def _write(self, run: JobRun, flight: InFlight, done: Completed) -> WriteOutcome | None:
        future, result = done.future, done.result
        status = future.status
        if status == "finished":
            if result is None:  # the result died with its worker before we fetched it
                self.log.bind(job_id=str(run.job_id), error=str(done.lost)).warning("result lost")
                self._lose_data(run)
                run.give_back(flight.indices)
                return None
            run.sizer.observe(len(flight.indices), result.elapsed - result.artifact_seconds)
            return self._write_result(run, result)
        if status == "error":
            decision = decide_error(future.exception(timeout=10), alone=flight.alone)
        else:
            decision = decide_cancelled(alone=flight.alone, connected=self.executor.connected())
            self._lose_data(run)  # scatter the dataset anew: it may be what was lost
        log = self.log.bind(job_id=str(run.job_id), tasks=len(flight.indices),
                            reason=decision.message, alone=flight.alone)
        if decision.verdict is Verdict.RESEND:
            log.warning("chunk lost; sending it again")
            run.give_back(flight.indices)
            return None
        if decision.verdict is Verdict.SUSPECT:
            log.warning("workers died around this chunk; running it again alone")
            run.suspects.append(flight.indices)
            return None
        log.bind(category=decision.category).warning("chunk failed")
        return self._write_failed(run, flight.indices, decision.message, decision.category,
                                  self.executor.max_attempts)

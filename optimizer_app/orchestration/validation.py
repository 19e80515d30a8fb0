"""Out-of-sample validation of ended jobs: a loop service of the orchestrator process.

A job with validation settings is stored with ``validation_state = "pending"``. Once it is
terminal (succeeded, early-stopped, canceled or failed: whatever ended it, and whoever wrote
that status), :meth:`ValidationSweeper.run_once` finds it and computes its out-of-sample
results in a background thread, then stores them ("done"; "failed" with the reason when
they cannot be computed). The database is the source of truth: results not stored when a
process dies are computed again by the next one, and writing them twice is harmless."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.domain.constraints import parse_constraints
from optimizer_app.domain.engine import BacktestOptions
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.policy import EarlyStopPolicy
from optimizer_app.domain.validation import Holdout, WalkForward, parse_validation
from optimizer_app.domain.validation_runs import holdout_sample, run_holdout, run_walkforward
from optimizer_app.orchestration.loading import load_bars
from optimizer_app.persistence import validation as queries
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset

SWEEP_SECONDS = 0.5
GRID_SAMPLE = 300  # stored combinations of a hold-out job also scored out of sample


def compute_validation(job: queries.PendingValidation, *,
                       progress: Any = None, stopped: Any = None) -> dict[str, Any] | None:
    """The job's out-of-sample results (None when ``stopped``); raise on bad inputs."""
    spec = parse_validation(job.validation)
    policy = EarlyStopPolicy.model_validate(job.early_stop_policy)
    options = BacktestOptions.model_validate(job.backtest_options or {})
    with session_scope(readonly=True) as session:
        bars = load_bars(session.get(Dataset, job.dataset_id))
    base = {"metric": policy.metric, "mode": policy.mode}
    if isinstance(spec, Holdout):
        rows = [{"index": e["index"], "params": e["params"]}
                for e in job.summary.get("topN") or []]
        with session_scope(readonly=True) as session:
            sample = queries.score_sample(session=session, job_id=job.id, limit=GRID_SAMPLE)
        total = int(job.summary.get("total") or 0)
        grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, total))
        return {**base,
                **run_holdout(bars, spec, strategy=job.strategy, rows=rows, options=options,
                              metric=policy.metric),
                "sample": holdout_sample(bars, spec, grid=grid, sample=sample,
                                         options=options, metric=policy.metric)}
    assert isinstance(spec, WalkForward)
    total = int(job.summary.get("total") or 0)
    grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, total))

    def chosen_by(fold: int) -> int | None:  # the best the job's run found in the fold
        with session_scope(readonly=True) as session:
            best = queries.best_in_range(
                session=session, job_id=job.id, start=fold * grid.total,
                stop=(fold + 1) * grid.total, mode=policy.mode,
            )
        return None if best is None else best - fold * grid.total

    result = run_walkforward(
        bars, spec, grid=grid, options=options, metric=policy.metric, mode=policy.mode,
        constraints=parse_constraints(job.constraints),
        progress=progress or (lambda _k: None), stopped=stopped or (lambda: False),
        chosen_by=chosen_by,
    )
    return None if result is None else {**base, **result}


class ValidationSweeper:
    """Finds ended jobs with pending validation and computes them one at a time."""

    def __init__(self, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
        self.sweep_seconds = sweep_seconds
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="validation")
        self._running: Future[None] | None = None
        self._next = 0.0
        self._stop = threading.Event()
        self._failed: set[uuid.UUID] = set()  # could not even record the failure: skip

    def run_once(self) -> None:
        if self._running is not None and not self._running.done():
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.sweep_seconds
        try:
            with session_scope(readonly=True) as session:
                pending = queries.pending_validations(session=session, limit=1,
                                                      exclude=self._failed)
        except Exception:
            logger.opt(exception=True).warning("looking for pending validations failed")
            return
        if pending:
            self._running = self._pool.submit(self._validate, pending[0])

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait for the validation in progress, if any (tests)."""
        if self._running is not None:
            self._running.result(timeout=timeout)

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _validate(self, job: queries.PendingValidation) -> None:
        log = logger.bind(job_id=str(job.id))
        started = time.perf_counter()
        try:
            result = compute_validation(job, stopped=self._stop.is_set)
        except Exception as exc:
            log.opt(exception=True).warning("validation failed")
            self._record(job.id, queries.FAILED, {"error": f"validation failed: {exc}"})
            return
        if result is None:
            return  # stopping: another process computes it again
        self._record(job.id, queries.DONE, result)
        log.bind(seconds=round(time.perf_counter() - started, 3)).info("validation stored")

    def _record(self, job_id: uuid.UUID, state: str, result: dict[str, Any]) -> None:
        try:
            with session_scope() as session:
                queries.store_validation(session=session, job_id=job_id, state=state,
                                         result=result)
        except Exception:
            logger.bind(job_id=str(job_id)).opt(exception=True).warning(
                "storing validation results failed"
            )
            self._failed.add(job_id)

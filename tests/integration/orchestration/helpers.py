"""Helpers for the orchestration suite: submit through the service, run an orchestrator in a
thread or a process, wait, and check a job's books."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import col, func, select

from optimizer_app.core.config import settings
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.orchestration.orchestrator import Orchestrator
from optimizer_app.persistence import results_store
from optimizer_app.persistence import tasks as task_queries
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import (
    LIVE_STATUSES,
    OptimizationJob,
    OptimizationTask,
    ResultSummary,
    TaskStatus,
)
from optimizer_app.services.optimizations import get_status, submit_job
from optimizer_app.services.schemas import JobCreate, JobPublic, OptimizationStatusResponse
from tests.conftest import ROOT
from tests.integration.orchestration.conftest import Backend

# 175 combinations (fast 5..50 by 5, slow 10..200 by 10, fast < slow).
SMALL_SPACE = {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"start": 10, "stop": 200, "step": 10}}
# 1,409 combinations.
MEDIUM_SPACE = {"fast": {"start": 2, "stop": 40, "step": 1}, "slow": {"start": 10, "stop": 200, "step": 5}}
# 3,956 combinations.
LARGE_SPACE = {"fast": {"start": 2, "stop": 60, "step": 1}, "slow": {"start": 10, "stop": 300, "step": 4}}
TEN_SPACE = {"fast": {"values": [5, 10]}, "slow": {"values": [20, 30, 40, 50, 60]}}

SLOW = "tests.support.faulty_chunks:slow_chunk"
GREEDY = "tests.support.faulty_chunks:greedy_chunk"
RAISING = "tests.support.faulty_chunks:raising_chunk"
POISON = "tests.support.faulty_chunks:poison_chunk"


def submit(
    backend: Backend,
    space: dict[str, Any],
    policy: dict[str, Any] | None = None,
    *,
    strategy: str = "sma_cross",
    options: dict[str, Any] | None = None,
    constraints: list[dict[str, Any]] | None = None,
    grid_order: str = "shuffled",
    seed: int | None = None,
    validation: dict[str, Any] | None = None,
) -> JobPublic:
    body = JobCreate(
        strategy=strategy,
        dataset_id=backend.dataset_id,
        param_space=space,
        early_stop_policy=policy or {"mode": "max", "metric": "sharpe", "topN": 5},
        backtest_options=options,
        constraints=constraints,
        grid_order=grid_order,
        seed=seed,
        validation=validation,
    )
    with session_scope() as session:
        return submit_job(session=session, owner_id=backend.owner_id, body=body)


def status(backend: Backend, job_id: uuid.UUID) -> OptimizationStatusResponse:
    with session_scope(readonly=True) as session:
        return get_status(session=session, owner_id=backend.owner_id, job_id=job_id)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
             ) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_terminal(backend: Backend, job_id: uuid.UUID, timeout: float = 60
                  ) -> OptimizationStatusResponse:
    def check() -> OptimizationStatusResponse | None:
        current = status(backend, job_id)
        return None if current.status in {s.value for s in LIVE_STATUSES} else current

    return wait_for(check, timeout, f"job {job_id} to end")  # type: ignore[no-any-return]


def wait_progress(backend: Backend, job_id: uuid.UUID, at_least: int, timeout: float = 60
                  ) -> OptimizationStatusResponse:
    def check() -> OptimizationStatusResponse | None:
        current = status(backend, job_id)
        done = current.summary.finished + current.summary.failed
        return current if done >= at_least else None

    return wait_for(check, timeout, f"{at_least} tasks of job {job_id}")  # type: ignore[no-any-return]


@contextmanager
def running(backend: Backend, **kwargs: Any) -> Iterator[Orchestrator]:
    """An orchestrator looping in a thread for the duration of the block."""
    orchestrator = Orchestrator(executor=backend.executor, **kwargs)
    stop = threading.Event()
    thread = threading.Thread(target=orchestrator.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield orchestrator
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "orchestrator thread did not stop"


def orchestrator_process(
    backend: Backend, log: Path, *, lease_seconds: float, chunk_function: str | None = None
) -> subprocess.Popen[bytes]:
    """``python -m optimizer_app.orchestration`` against the backend's database: embedded
    (its own local cluster) or connected to the backend's scheduler."""
    env = {
        **os.environ,
        "OPTIMIZER_DATABASE_URL": backend.url,
        "OPTIMIZER_DATA_DIR": str(settings.data_dir),
        "OPTIMIZER_LEASE_SECONDS": str(lease_seconds),
        "OPTIMIZER_WORKERS": "2",
        "OPTIMIZER_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("OPTIMIZER_DASK_ADDRESS", None)
    if backend.cluster.address:
        env["OPTIMIZER_DASK_ADDRESS"] = backend.cluster.address
    args = [sys.executable, "-m", "optimizer_app.orchestration"]
    if chunk_function:
        args += ["--chunk-function", chunk_function]
    handle = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def job_row(job_id: uuid.UUID) -> OptimizationJob:
    with session_scope(readonly=True) as session:
        job = session.get(OptimizationJob, job_id)
        assert job is not None
        return job


def store_counts(job_id: uuid.UUID) -> dict[str, int]:
    """Rows of the job's committed results files: total, distinct indices, by status."""
    with session_scope(readonly=True) as session:
        files = results_store.job_results(session=session, job_id=job_id)
    indices, succeeded, failed = results_store.stored_indices(files.paths)
    assert files.rows == len(indices) and files.failed == failed, "the manifest adds up"
    return {"total": len(indices), "distinct": len(np.unique(indices)),
            "succeeded": succeeded, "failed": failed}


def assert_books_balance(job_id: uuid.UUID, *, complete: bool = True) -> OptimizationJob:
    """finished + failed == rows in the results store == distinct indices (== total when
    complete); failed combinations have task rows, succeeded ones only when they entered the
    Top-N, each linked to a result summary with its metrics; every Top-N row has readable
    artifacts."""
    job = job_row(job_id)
    summary = job.summary
    counts = store_counts(job_id)
    with session_scope(readonly=True) as session:
        sql = task_queries.count_tasks(session=session, job_id=job_id)
        results = session.exec(
            select(ResultSummary.task_id, ResultSummary.artifacts)
            .join(OptimizationTask, col(OptimizationTask.id) == col(ResultSummary.task_id))
            .where(OptimizationTask.job_id == job_id)
        ).all()
        without_metrics = session.exec(
            select(func.count()).select_from(OptimizationTask).where(
                OptimizationTask.job_id == job_id,
                OptimizationTask.status == TaskStatus.SUCCEEDED.value,
                col(OptimizationTask.metrics).is_(None),
            )
        ).one()
        linked = session.exec(
            select(func.count()).select_from(OptimizationTask).where(
                OptimizationTask.job_id == job_id,
                col(OptimizationTask.result_summary_id).is_not(None),
            )
        ).one()
    assert sql.get("failed", 0) == summary["failed"], "every failed combination has its row"
    assert sql.get("succeeded", 0) == linked, "succeeded rows exist only for the Top-N"
    done = summary["finished"] + summary["failed"]
    assert counts["total"] == counts["distinct"] == done, (counts, summary)
    assert counts.get("succeeded", 0) == summary["finished"]
    assert counts.get("failed", 0) == summary["failed"]
    assert without_metrics == 0, "every succeeded task has its metrics on its row"
    # A result summary for each task that got artifacts (it entered the Top-N), no more.
    assert linked == len(results) <= summary["finished"]
    if complete:
        assert done == summary["total"]
    artifacts = {str(task_id): links for task_id, links in results}
    store = get_artifact_store()
    for entry in summary["topN"]:
        links = artifacts[entry["taskId"]]
        assert sorted(a["name"] for a in links) == ["equity.csv", "trades.csv"], entry
        assert {a["kind"] for a in links} == {"equity_curve", "trades"}
        for link in links:
            assert store.read(link["uri"]).count(b"\n") >= 1
    return job

"""Jobs run to the end with a correct summary; Top-N order; early stop; the cluster's config."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from sqlmodel import col, select

from optimizer_app.core.metrics import REGISTRY
from optimizer_app.domain.datasets import load_bundled_bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid
from optimizer_app.domain.grid import build_grid
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.orchestration.executor import LOCAL_WORKER_NICENESS, QUIET_TIMERS
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import OptimizationTask, ResultSummary
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    GREEDY,
    LARGE_SPACE,
    MEDIUM_SPACE,
    SMALL_SPACE,
    assert_books_balance,
    job_row,
    running,
    status,
    submit,
    wait_terminal,
)

METRICS = [
    ("tasks_finished_total", {}),
    ("jobs_terminal_total", {"status": "succeeded"}),
    ("queue_wait_seconds_count", {}),
    ("job_exec_seconds_count", {}),
]


def expected_scores(space: dict, metric: str) -> np.ndarray:
    grid = build_grid("sma_cross", space, cap=1_000_000)
    bars = load_bundled_bars("goog-daily")
    metrics = evaluate_grid(bars, "sma_cross", grid.params_for(np.arange(grid.total)),
                            BacktestOptions())
    return np.asarray(metrics[metric], dtype=np.float64)


def test_workers_run_without_malloc_trim_and_with_unbounded_saturation(backend: Backend) -> None:
    envs = backend.executor.worker_environments()
    assert len(envs) == 2
    assert all(env["malloc_trim"] is None for env in envs.values()), envs
    # Dask's own timers are slowed down (profiler off) in the workers themselves.
    assert all(env["timers"] == QUIET_TIMERS for env in envs.values()), envs
    saturation = backend.executor.client.run_on_scheduler(  # type: ignore[union-attr]
        lambda dask_scheduler: dask_scheduler.WORKER_SATURATION
    )
    assert math.isinf(saturation)


def test_every_worker_is_warmed_up_when_the_orchestrator_connects(backend: Backend) -> None:
    """Imports and numba kernels are loaded by a warm-up chunk per worker, not a job's first
    chunk: it is sent to each worker the executor sees for the first time (at start, and
    workers restarted by earlier tests here), and is not waited for."""
    deadline = time.monotonic() + 120
    while True:
        backend.executor.capacity(refresh=True)  # as each orchestrator tick does
        envs = backend.executor.worker_environments()
        if all(env["warm_ups"] for env in envs.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(envs) == 2 and all(env["warm_ups"] for env in envs.values()), envs
    # local workers yield the CPU to the orchestrator and the web app; a cluster's are untouched
    expected = LOCAL_WORKER_NICENESS if backend.name == "embedded" else 0
    deadline = time.monotonic() + 30
    while {env["niceness"] for env in envs.values()} != {expected} and time.monotonic() < deadline:
        time.sleep(0.2)
        envs = backend.executor.worker_environments()
    assert {env["niceness"] for env in envs.values()} == {expected}, envs


def test_job_runs_to_succeeded_with_a_correct_summary(backend: Backend) -> None:
    job = submit(backend, MEDIUM_SPACE, {"mode": "max", "metric": "sharpe", "topN": 5})
    assert job.status == "queued"
    before = {name: REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in METRICS}
    with running(backend):
        final = wait_terminal(backend, job.id)
    after = {name: REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in METRICS}
    assert after["tasks_finished_total"] - before["tasks_finished_total"] == 1409
    assert after["jobs_terminal_total"] == before["jobs_terminal_total"] + 1
    assert after["queue_wait_seconds_count"] == before["queue_wait_seconds_count"] + 1
    assert after["job_exec_seconds_count"] == before["job_exec_seconds_count"] + 1
    assert final.status == "succeeded"
    assert final.summary.total == final.summary.finished == 1409
    assert final.summary.failed == 0
    assert final.stop_reason is None
    assert final.queue_wait_seconds is not None and 0 <= final.queue_wait_seconds < 10
    assert final.exec_seconds is not None and final.exec_seconds > 0
    row = assert_books_balance(job.id)
    assert row.started_at is not None and row.finished_at is not None
    assert row.lease_owner is None


def test_workers_write_the_artifacts_and_those_left_out_of_the_top_n_are_removed(
        backend: Backend) -> None:
    """Local workers (embedded) write their candidates' files into the artifact store
    themselves, and files of rows that did not enter the Top-N after all are removed; a
    cluster's workers send them back and only the Top-N's are stored. Either way the store
    holds exactly the linked results' files."""
    job = submit(backend, MEDIUM_SPACE, {"mode": "max", "metric": "sharpe", "topN": 5})
    with running(backend, chunk_function=GREEDY, chunk_target_seconds=0.05):  # many chunks
        final = wait_terminal(backend, job.id)
    assert final.status == "succeeded"
    assert_books_balance(job.id)
    with session_scope(readonly=True) as session:
        uris = session.exec(
            select(ResultSummary.artifacts)
            .join(OptimizationTask, col(OptimizationTask.id) == col(ResultSummary.task_id))
            .where(OptimizationTask.job_id == job.id)
        ).all()
    linked = {link["uri"].removeprefix("artifacts://") for links in uris for link in links}
    folder = get_artifact_store().worker_folder(job.id)
    assert folder is not None
    stored = {f"{job.id}/{path.relative_to(folder)}" for path in folder.rglob("*")
              if path.is_file()}
    assert stored == linked and len(linked) >= 2 * 5


@pytest.mark.parametrize(("mode", "metric"), [("max", "sharpe"), ("min", "maxDrawdown")])
def test_top_n_is_the_true_best_in_the_policy_order(backend: Backend, mode: str, metric: str
                                                   ) -> None:
    job = submit(backend, SMALL_SPACE, {"mode": mode, "metric": metric, "topN": 7})
    with running(backend):
        final = wait_terminal(backend, job.id)
    assert final.status == "succeeded"
    scores = expected_scores(SMALL_SPACE, metric)
    finite = np.sort(scores[~np.isnan(scores)])
    best = finite[::-1][:7] if mode == "max" else finite[:7]
    top = final.summary.top_n
    assert [e.score for e in top] == best.tolist()
    for entry in top:
        assert scores[entry.index] == entry.score
        assert set(entry.params) == {"fast", "slow"}
        assert entry.metrics[metric] == entry.score
    assert_books_balance(job.id)


def test_early_stop_by_target(backend: Backend) -> None:
    job = submit(backend, MEDIUM_SPACE,
                 {"mode": "max", "metric": "totalReturn", "topN": 3, "targetScore": -0.99})
    with running(backend):
        final = wait_terminal(backend, job.id)
    assert final.status == "early-stopped"
    assert "target score" in (final.stop_reason or "")
    assert 0 < final.summary.finished < final.summary.total
    assert_books_balance(job.id, complete=False)


def test_early_stop_by_patience(backend: Backend) -> None:
    job = submit(backend, MEDIUM_SPACE,
                 {"mode": "max", "metric": "sharpe", "topN": 3, "patience": 20})
    with running(backend):
        final = wait_terminal(backend, job.id)
    assert final.status == "early-stopped"
    assert "patience" in (final.stop_reason or "")
    assert final.summary.finished < final.summary.total
    summary = job_row(job.id).summary
    assert summary["sinceBest"] >= 20
    # the best-score curve ends at the board's best, and patience ran after its last step
    history = summary["bestHistory"]
    assert history and history[-1][1] == final.summary.top_n[0].score
    assert final.summary.finished - history[-1][0] >= 20
    assert [f for f, _ in history] == sorted(f for f, _ in history)
    assert_books_balance(job.id, complete=False)


def test_min_tasks_holds_the_early_stop_back(backend: Backend) -> None:
    job = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 3,
                                        "patience": 1, "minTasks": 600})
    with running(backend):
        final = wait_terminal(backend, job.id)
    assert final.status == "early-stopped"
    assert 600 <= final.summary.finished < final.summary.total
    assert_books_balance(job.id, complete=False)


def test_terminal_summary_never_changes_again(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE, {"mode": "max", "metric": "sharpe", "patience": 5})
    with running(backend):
        final = wait_terminal(backend, job.id)
        before = job_row(job.id)
        time.sleep(1.0)  # the orchestrator keeps running: nothing more may arrive
        after = job_row(job.id)
    assert final.status == "early-stopped"
    assert after.summary == before.summary and after.updated_at == before.updated_at
    assert status(backend, job.id).summary == final.summary
    assert_books_balance(job.id, complete=False)

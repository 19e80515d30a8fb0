"""Validated jobs on the real orchestrator: the grid sees only in-sample bars, and the
out-of-sample results of ended jobs (succeeded or canceled) are stored and served."""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer_app.domain.constraints import parse_constraints
from optimizer_app.domain.datasets import load_bundled_bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.validation import holdout_windows, parse_validation, slice_bars
from optimizer_app.domain.validation_runs import run_walkforward
from optimizer_app.persistence.db import session_scope
from optimizer_app.services.optimizations import cancel_job
from optimizer_app.services.stability import get_stability
from optimizer_app.services.validation import get_validation
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    MEDIUM_SPACE,
    SLOW,
    SMALL_SPACE,
    job_row,
    running,
    store_counts,
    submit,
    wait_for,
    wait_progress,
    wait_terminal,
)

HOLDOUT = {"kind": "holdout", "fraction": 0.3}


def grid_neighbours(grid: Any, index: int) -> list[int]:
    fold, local = divmod(index, grid.total)
    return [fold * grid.total + j for j in grid.neighbours(local)]
POLICY = {"mode": "max", "metric": "sharpe", "topN": 5}


def validation(backend: Backend, job_id: object) -> dict:
    with session_scope(readonly=True) as session:
        return get_validation(session=session, owner_id=backend.owner_id, job_id=job_id)


def wait_validated(backend: Backend, job_id: object, timeout: float = 60) -> dict:
    return wait_for(lambda: (v := validation(backend, job_id))["status"] != "pending" and v,
                    timeout, "validation results")


def test_a_holdout_job_scores_in_sample_and_validates_its_top_n(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE, POLICY, validation=HOLDOUT)
    assert job.validation == HOLDOUT and job.validation_state == "pending"
    assert validation(backend, job.id)["status"] == "pending"
    with running(backend):
        final = wait_terminal(backend, job.id)
        result = wait_validated(backend, job.id)
    assert final.status == "succeeded"
    bars = load_bundled_bars("goog-daily")
    inside, outside = holdout_windows(parse_validation(HOLDOUT), bars.dates)  # type: ignore[arg-type]
    grid = build_grid("sma_cross", SMALL_SPACE, cap=10_000)
    in_sample = evaluate_grid(slice_bars(bars, inside), "sma_cross",
                              grid.params_for(np.arange(grid.total)), BacktestOptions())
    best = np.sort(in_sample["sharpe"][np.isfinite(in_sample["sharpe"])])[::-1][:5]
    # the workers saw the in-sample bars only: the Top-N are the in-sample best scores
    assert [e.score for e in final.summary.top_n] == best.tolist()
    assert result["status"] == "done" and result["kind"] == "holdout"
    assert result["outOfSample"]["bars"] == outside.bars
    out_bars = slice_bars(bars, outside)
    assert [r["index"] for r in result["rows"]] == [e.index for e in final.summary.top_n]
    for row, entry in zip(result["rows"], final.summary.top_n, strict=True):
        assert row["inSampleScore"] == entry.score
        expected = run_single(out_bars, "sma_cross", row["params"], BacktestOptions())
        assert row["outOfSample"]["finalEquity"] == expected.metrics["finalEquity"]
    # a sample of the whole grid, each scored in and out of sample
    assert 100 <= len(result["sample"]) <= 300
    for point in result["sample"][::25]:
        params = grid.params_at(point["index"])
        out = run_single(out_bars, "sma_cross", params, BacktestOptions()).metrics["sharpe"]
        assert point["outOfSampleScore"] == (out if np.isfinite(out) else None)
        assert point["inSampleScore"] == in_sample["sharpe"][point["index"]]


def test_a_canceled_holdout_job_is_validated_on_what_it_found(backend: Backend) -> None:
    job = submit(backend, MEDIUM_SPACE, POLICY, validation=HOLDOUT, grid_order="sequential")
    with running(backend, chunk_target_seconds=0.05, chunk_function=SLOW):  # cancelable
        wait_progress(backend, job.id, 50)
        with session_scope() as session:
            cancel_job(session=session, owner_id=backend.owner_id, job_id=job.id)
        result = wait_validated(backend, job.id)
    assert result["status"] == "done" and result["jobStatus"] == "canceled"
    assert 1 <= len(result["rows"]) <= 5


def test_a_walkforward_job_runs_every_fold_on_the_workers(backend: Backend) -> None:
    """The job runs folds × grid combinations, each fold's on its training window; the fold's
    best (objective and constraints) is the one an independent walk-forward chooses, and its
    out-of-sample result is the same."""
    spec = {"kind": "walkforward", "folds": 3, "trainBars": 600, "testBars": 300,
            "anchored": True}
    constraints = [{"metric": "trades", "op": ">=", "value": 3}]
    job = submit(backend, SMALL_SPACE, POLICY, validation=spec, constraints=constraints)
    grid = build_grid("sma_cross", SMALL_SPACE, cap=10_000)
    assert job.summary.total == 3 * grid.total
    with running(backend):
        final = wait_terminal(backend, job.id)
        result = wait_validated(backend, job.id)
    assert final.status == "succeeded" and final.summary.finished == 3 * grid.total
    assert result["status"] == "done" and len(result["folds"]) == 3
    expected = run_walkforward(
        load_bundled_bars("goog-daily"), parse_validation(spec),  # type: ignore[arg-type]
        grid=grid, options=BacktestOptions(), metric="sharpe", mode="max",
        constraints=parse_constraints(constraints),
    )
    assert expected is not None
    for got, want in zip(result["folds"], expected["folds"], strict=True):
        assert got["index"] == want["index"] and got["params"] == want["params"]
        assert got["combination"] == (got["fold"] - 1) * grid.total + got["index"]
        assert got["outOfSample"] == want["outOfSample"]
    assert result["stitched"]["equity"] == expected["stitched"]["equity"]
    assert len(result["stitched"]["equity"]) == 900
    with session_scope(readonly=True) as session:
        stable = get_stability(session=session, owner_id=backend.owner_id, job_id=job.id)
    assert stable["count"] == 5
    for row in stable["data"]:  # neighbours stay in the row's fold
        fold = row["index"] // grid.total
        assert row["neighbours"] >= 1 and row["neighbourMean"] is not None, row
        assert all(fold == j // grid.total for j in grid_neighbours(grid, row["index"]))


def test_a_canceled_walkforward_job_reports_its_folds_progress(backend: Backend) -> None:
    spec = {"kind": "walkforward", "folds": 2, "trainBars": 800, "testBars": 300}
    job = submit(backend, MEDIUM_SPACE, POLICY, validation=spec, grid_order="sequential")
    with running(backend, chunk_target_seconds=0.05, chunk_function=SLOW):  # still running
        wait_progress(backend, job.id, 100)
        progress = validation(backend, job.id)["progress"]["folds"]
        assert [f["fold"] for f in progress] == [1, 2] and progress[0]["done"] >= 100
        assert all(f["total"] == job.summary.total // 2 for f in progress)
        with session_scope() as session:
            cancel_job(session=session, owner_id=backend.owner_id, job_id=job.id)
        result = wait_validated(backend, job.id)
    assert result["status"] == "done" and result["jobStatus"] == "canceled"
    assert result["folds"][0]["params"] is not None  # sequential: fold 1 ran first


def test_a_walkforward_job_resumes_after_its_orchestrator_stops(backend: Backend) -> None:
    """Another orchestrator takes the job over from what was written, and the folds come out
    as if it had run in one go."""
    spec = {"kind": "walkforward", "folds": 2, "trainBars": 700, "testBars": 300}
    job = submit(backend, MEDIUM_SPACE, POLICY, validation=spec)
    with running(backend, chunk_target_seconds=0.05):
        wait_progress(backend, job.id, 200)
    assert validation(backend, job.id)["status"] == "pending"
    with running(backend):
        final = wait_terminal(backend, job.id)
        result = wait_validated(backend, job.id)
    assert final.status == "succeeded" and final.summary.finished == job.summary.total
    grid = build_grid("sma_cross", MEDIUM_SPACE, cap=100_000)
    expected = run_walkforward(
        load_bundled_bars("goog-daily"), parse_validation(spec),  # type: ignore[arg-type]
        grid=grid, options=BacktestOptions(), metric="sharpe", mode="max", constraints=[],
    )
    assert expected is not None
    assert [f["params"] for f in result["folds"]] == [f["params"] for f in expected["folds"]]


def test_walkforward_stop_rules_apply_to_each_fold(backend: Backend) -> None:
    """Patience is judged per fold: each fold runs at least ``minTasks`` of its own and stops
    on its own results, withdrawing the rest of that fold only; the job ends early-stopped
    when every fold has stopped or finished, and the books add up."""
    spec = {"kind": "walkforward", "folds": 3, "trainBars": 600, "testBars": 300,
            "anchored": False}
    policy = {**POLICY, "patience": 15, "minTasks": 40}
    job = submit(backend, SMALL_SPACE, policy, validation=spec)
    size = build_grid("sma_cross", SMALL_SPACE, cap=10_000).total
    with running(backend, chunk_target_seconds=0.05, chunk_function=SLOW):  # small chunks
        final = wait_terminal(backend, job.id)
        result = wait_validated(backend, job.id)
    assert final.status == "early-stopped", final
    folds = job_row(job.id).summary["folds"]
    assert len(folds) == 3
    for fold in folds:
        ran = fold["finished"] + fold["failed"]
        assert ran + fold["skipped"] <= size
        if fold["stopped"]:
            assert fold["finished"] >= 40, fold  # judged on its own results, not the job's
            assert "patience" in fold["stopped"]
        else:
            assert ran == size, fold
    stopped = [k for k, fold in enumerate(folds) if fold["stopped"]]
    assert stopped and all(f"fold {k + 1}" in (final.stop_reason or "") for k in stopped)
    counts = store_counts(job.id)
    assert counts["total"] == final.summary.finished + final.summary.failed
    assert counts["total"] + sum(f["skipped"] for f in folds) == final.summary.total
    assert result["status"] == "done" and len(result["folds"]) == 3

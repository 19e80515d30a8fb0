"""Result constraints: combinations that fail one are stored and counted, never ranked; the
Top-N and the early-stop rules see only those that pass."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from optimizer_app.domain.datasets import load_bundled_bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid
from optimizer_app.domain.grid import build_grid
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    MEDIUM_SPACE,
    assert_books_balance,
    running,
    submit,
    wait_terminal,
)

MAX_TRADES = 45
CONSTRAINTS = [{"metric": "trades", "op": "<=", "value": MAX_TRADES}]


def _grid_metrics(space: dict) -> dict[str, np.ndarray]:
    grid = build_grid("sma_cross", space, cap=1_000_000)
    bars = load_bundled_bars("goog-daily")
    return evaluate_grid(bars, "sma_cross", grid.params_for(np.arange(grid.total)),
                         BacktestOptions())


def test_combinations_failing_a_constraint_are_counted_but_never_ranked(backend: Backend) -> None:
    metrics = _grid_metrics(MEDIUM_SPACE)
    trades = np.asarray(metrics["trades"])
    sharpe = np.asarray(metrics["sharpe"], dtype=np.float64)
    failing = int(np.count_nonzero(trades > MAX_TRADES))
    assert 0 < failing < len(trades), "the grid has combinations on both sides"
    # Without the constraint, the best Sharpe ratios come from more trades than allowed.
    unconstrained_best = np.argsort(-np.nan_to_num(sharpe, nan=-np.inf))[:5]
    assert (trades[unconstrained_best] > MAX_TRADES).any()

    job = submit(backend, MEDIUM_SPACE, {"mode": "max", "metric": "sharpe", "topN": 5},
                 constraints=CONSTRAINTS)
    assert job.constraints == [{"metric": "trades", "op": "<=", "value": float(MAX_TRADES)}]
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=120)
    assert final.status == "succeeded"
    assert final.summary.constrained == failing
    assert final.summary.finished + final.summary.failed == final.summary.total
    assert_books_balance(job.id)

    allowed = np.where(trades <= MAX_TRADES, np.nan_to_num(sharpe, nan=-np.inf), -np.inf)
    expected = sorted(allowed[np.isfinite(allowed)].tolist(), reverse=True)[:5]
    top = final.summary.top_n
    assert [entry.score for entry in top] == expected
    assert all(entry.metrics["trades"] <= MAX_TRADES for entry in top)
    with session_scope(readonly=True) as session:
        files = results_store.job_results(session=session, job_id=job.id)
    stored = pa.concat_tables([pq.read_table(path) for path in files.paths])
    unscored = stored.filter(pc.is_null(stored.column("score")))
    failing_rows = stored.filter(pc.invert(stored.column("passes")))
    assert set(unscored.column("index").to_pylist()) >= set(
        np.flatnonzero(trades > MAX_TRADES).tolist())
    assert sorted(failing_rows.column("index").to_pylist()) == np.flatnonzero(
        trades > MAX_TRADES).tolist()

from __future__ import annotations

import json
import pickle

import numpy as np

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, equity_csv, run_single, trades_csv
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.jsontext import stored_metrics
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.domain.worker import ChunkTask, best_positions, cached_grid, run_chunk

SPACE = {
    "fast": {"start": 2, "stop": 60, "step": 2},
    "slow": {"start": 10, "stop": 200, "step": 10},
}
OPTIONS = {"direction": "long_short", "commission": 0.001}


def task(indices: np.ndarray, **overrides) -> ChunkTask:
    fields = dict(
        job_id="job-1",
        strategy="sma_cross",
        raw_space=SPACE,
        indices=indices,
        options=OPTIONS,
        metric="sharpe",
        mode="max",
        top_n=5,
        threshold=None,
    )
    fields.update(overrides)
    return ChunkTask(**fields)


def test_chunk_metrics_scores_and_artifacts_for_the_best(goog: Bars) -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    indices = np.arange(40, 140, dtype=np.int64)
    result = run_chunk(task(indices), goog)
    assert result.job_id == "job-1" and np.array_equal(result.indices, indices)
    sharpe = [json.loads(line)[METRIC_KEYS.index("sharpe")] for line in result.metrics_json()]
    assert np.array_equal(result.scores, np.array(sharpe, dtype=float), equal_nan=True)
    finite = ~np.isnan(result.scores)
    best = indices[finite][np.argsort(-result.scores[finite], kind="stable")[:5]]
    assert sorted(result.artifacts) == sorted(best.tolist())
    top = int(best[0])
    single = run_single(
        goog, "sma_cross", grid.params_at(top), BacktestOptions.model_validate(OPTIONS)
    )
    assert result.artifacts[top]["equity.csv"] == equity_csv(goog, single)
    assert result.artifacts[top]["trades.csv"] == trades_csv(single)
    assert result.scores[list(indices).index(top)] == single.metrics["sharpe"]
    assert result.elapsed > 0
    pickle.loads(pickle.dumps(result))  # results travel back from workers


def test_threshold_limits_artifacts_to_results_that_can_enter_the_top_n(goog: Bars) -> None:
    indices = np.arange(0, 200, dtype=np.int64)
    everything = run_chunk(task(indices, top_n=100), goog)
    threshold = float(np.nanquantile(everything.scores, 0.97))
    result = run_chunk(task(indices, top_n=100, threshold=threshold), goog)
    expected = {int(i) for i, s in zip(indices, result.scores, strict=True) if s >= threshold}
    assert set(result.artifacts) == expected and 0 < len(expected) < 100
    above_all = run_chunk(task(indices, threshold=float(np.nanmax(everything.scores)) + 1), goog)
    assert above_all.artifacts == {}


def test_min_mode_and_nan_scores_never_get_artifacts() -> None:
    scores = np.array([0.3, np.nan, 0.1, 0.2, np.nan, 0.1])
    assert best_positions(scores, "min", 3, None).tolist() == [2, 5, 3]
    assert best_positions(scores, "max", 10, None).tolist() == [0, 3, 2, 5]
    assert best_positions(scores, "min", 10, 0.15).tolist() == [2, 5]


def test_grid_is_built_once_per_space() -> None:
    first = cached_grid("sma_cross", SPACE)
    reordered = {"slow": SPACE["slow"], "fast": SPACE["fast"]}
    assert cached_grid("sma_cross", reordered) is first


def test_chunk_rows_come_with_their_json_texts(goog: Bars) -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    indices = np.array([7, 3, 120, 41], dtype=np.int64)
    result = run_chunk(task(indices), goog)
    assert len(result.metrics_json()) == len(result.params_json()) == len(indices)
    options = BacktestOptions.model_validate(OPTIONS)
    for k, index in enumerate(indices.tolist()):
        metrics = stored_metrics(json.loads(result.metrics_json()[k]))
        single = run_single(goog, "sma_cross", grid.params_at(index), options)
        assert metrics is not None and list(metrics) == list(METRIC_KEYS)
        for key, value in metrics.items():
            raw = float(single.metrics[key])
            assert value == raw if np.isfinite(raw) else value is None
        assert json.loads(result.params_json()[k]) == grid.params_at(index)
    assert pickle.loads(pickle.dumps(result)).metrics_json() == result.metrics_json()

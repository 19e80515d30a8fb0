from __future__ import annotations

import json
import pickle
import uuid
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, equity_csv, run_single, trades_csv
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.jsontext import stored_metrics
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.domain.task_ids import task_id_for
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


def test_a_worker_sharing_the_artifact_store_writes_the_files_and_sends_back_names(
        goog: Bars, tmp_path: Path) -> None:
    job = uuid.uuid4()
    indices = np.arange(40, 140, dtype=np.int64)
    sent_back = run_chunk(task(indices, job_id=str(job)), goog)
    folder = tmp_path / str(job)
    written = run_chunk(task(indices, job_id=str(job), artifacts_dir=str(folder)), goog)
    assert written.artifacts == {} and len(sent_back.artifacts) == 5
    assert set(written.artifacts_written) == set(sent_back.artifacts)
    for index, files in sent_back.artifacts.items():
        assert written.artifacts_written[index] == ["equity.csv", "trades.csv"]
        stored = folder / str(task_id_for(job, index))
        assert {p.name: p.read_bytes() for p in stored.iterdir()} == files  # no temporary left
    assert len(list(folder.iterdir())) == 5
    assert len(pickle.dumps(written)) * 10 < len(pickle.dumps(sent_back))


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


def test_chunk_results_file_and_candidate_metrics(goog: Bars, tmp_path) -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    indices = np.array([7, 3, 120, 41, 55, 90], dtype=np.int64)
    result = run_chunk(task(indices, top_n=3, results_dir=str(tmp_path)), goog)
    options = BacktestOptions.model_validate(OPTIONS)
    # every row is in the chunk's file, sorted by index, with exact scores and its parameters
    table = pq.read_table(tmp_path / result.file)
    assert result.file_bytes == (tmp_path / result.file).stat().st_size
    assert table.column("index").to_pylist() == sorted(indices.tolist())
    for row in table.to_pylist():
        single = run_single(goog, "sma_cross", grid.params_at(row["index"]), options)
        assert {"fast": row["p_fast"], "slow": row["p_slow"]} == grid.params_at(row["index"])
        sharpe = float(single.metrics["sharpe"])
        assert row["score"] == (sharpe if np.isfinite(sharpe) else None)
        assert row["trades"] == single.metrics["trades"] and row["status"] == 0
        assert row["totalReturn"] == pytest.approx(single.metrics["totalReturn"], rel=1e-6)
    # the candidates (the best three) travel with their exact metrics
    candidates = result.candidate_metrics()
    assert len(candidates) == 3
    for position, line in candidates.items():
        metrics = stored_metrics(json.loads(line))
        single = run_single(goog, "sma_cross", grid.params_at(int(indices[position])), options)
        assert metrics is not None and list(metrics) == list(METRIC_KEYS)
        for key, value in metrics.items():
            raw = float(single.metrics[key])
            assert value == raw if np.isfinite(raw) else value is None
    assert pickle.loads(pickle.dumps(result)).candidate_metrics() == candidates


def test_no_results_dir_writes_no_file(goog: Bars) -> None:
    result = run_chunk(task(np.array([1, 2], dtype=np.int64)), goog)
    assert result.file == "" and result.file_bytes == 0

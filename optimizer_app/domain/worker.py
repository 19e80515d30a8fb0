"""What a worker runs for one chunk of a job: metrics for every index, artifacts for the best.

Imports the domain only, so a remote worker needs neither the database nor the web app.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from optimizer_app.domain.constraints import parse_constraints, passing
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import (
    BacktestOptions,
    equity_csv,
    evaluate_grid,
    run_single,
    trades_csv,
)
from optimizer_app.domain.grid import Grid, build_grid
from optimizer_app.domain.jsontext import json_rows, metric_lines

__all__ = ["ChunkResult", "ChunkTask", "best_positions", "cached_grid", "run_chunk", "warm_up",
           "warm_ups"]

WORKER_GRID_CAP = 10_000_000  # jobs are validated against the configured cap when submitted


@dataclass
class ChunkTask:
    job_id: str
    strategy: str
    raw_space: dict[str, Any]
    indices: np.ndarray
    options: dict[str, Any]
    metric: str
    mode: str
    top_n: int
    threshold: float | None = None  # the current N-th best score; None while the board is not full
    # Result constraints ({metric, op, value}); a combination failing one is never ranked.
    constraints: list[dict[str, Any]] = field(default_factory=list)
    # Walk-forward: combination ``fold * fold_size + i`` is the grid's ``i`` scored on the bars
    # ``windows[fold]`` (start, stop); 0 and empty for other jobs (domain.validation).
    fold_size: int = 0
    windows: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class ChunkResult:
    job_id: str
    indices: np.ndarray
    scores: np.ndarray
    artifacts: dict[int, dict[str, bytes]] = field(default_factory=dict)
    elapsed: float = 0.0
    artifact_seconds: float = 0.0  # of ``elapsed``, making the artifacts
    # The rows' JSON texts (in ``indices`` order) as they are stored — metrics as compact
    # arrays (``jsontext.metric_lines``), parameters as objects — encoded here so that the
    # one process that writes every result does not have to, and joined by newlines (which
    # JSON text never holds unescaped): one string is sent as one frame, a list of them
    # object by object.
    metrics_lines: str = ""
    params_lines: str = ""
    # Which rows pass the job's result constraints (None: the job has none, all pass).
    passes: np.ndarray | None = None

    def metrics_json(self) -> list[str]:
        return self.metrics_lines.split("\n") if self.metrics_lines else []

    def params_json(self) -> list[str]:
        return self.params_lines.split("\n") if self.params_lines else []


@lru_cache(maxsize=16)
def _grid_for(strategy: str, space_json: str) -> Grid:
    return build_grid(strategy, json.loads(space_json), cap=WORKER_GRID_CAP)


def cached_grid(strategy: str, raw_space: dict[str, Any]) -> Grid:
    """The job's grid, built once per worker process per (strategy, space)."""
    return _grid_for(strategy, json.dumps(raw_space, sort_keys=True))


def best_positions(
    scores: np.ndarray, mode: str, top_n: int, threshold: float | None
) -> np.ndarray:
    """Positions of the best ``top_n`` finite scores (ties: earlier first) that are at least as
    good as ``threshold`` (all of them when it is None)."""
    finite = np.flatnonzero(~np.isnan(scores))
    if threshold is not None:
        values = scores[finite]
        keep = values >= threshold if mode == "max" else values <= threshold
        finite = finite[keep]
    key = -scores[finite] if mode == "max" else scores[finite]
    order = np.lexsort((finite, key))
    return finite[order[:top_n]]


def _fold_bars(task: ChunkTask, bars: Bars, index: int) -> Bars:
    """The bars combination ``index`` is scored on: its fold's training window, if any."""
    if not task.fold_size:
        return bars
    from optimizer_app.domain.validation import Window, slice_bars

    start, stop = task.windows[index // task.fold_size]
    return slice_bars(bars, Window(start, stop))


def _evaluate(task: ChunkTask, bars: Bars, grid: Grid, indices: np.ndarray,
              options: BacktestOptions) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parameters and metrics of the chunk's combinations (each fold on its own bars)."""
    if not task.fold_size or not len(indices):
        params = grid.params_for(indices % task.fold_size if task.fold_size else indices)
        return params, evaluate_grid(bars, grid.strategy, params, options)
    params = grid.params_for(indices % task.fold_size)
    folds = indices // task.fold_size
    metrics: dict[str, np.ndarray] = {}
    for fold in np.unique(folds).tolist():
        mask = folds == fold
        part = evaluate_grid(_fold_bars(task, bars, fold * task.fold_size), grid.strategy,
                             {name: column[mask] for name, column in params.items()}, options)
        for key, values in part.items():
            metrics.setdefault(key, np.empty(len(indices), dtype=values.dtype))[mask] = values
    return params, metrics


def run_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    started = time.perf_counter()
    grid = cached_grid(task.strategy, task.raw_space)
    indices = np.asarray(task.indices, dtype=np.int64)
    options = BacktestOptions.model_validate(task.options)
    params, metrics = _evaluate(task, bars, grid, indices, options)
    scores = np.asarray(metrics[task.metric], dtype=np.float64)
    passes = passing(metrics, parse_constraints(task.constraints), len(indices))
    ranked = scores if passes is None else np.where(passes, scores, np.nan)
    artifacts: dict[int, dict[str, bytes]] = {}
    artifacts_started = time.perf_counter()
    for pos in best_positions(ranked, task.mode, task.top_n, task.threshold).tolist():
        index = int(indices[pos])
        fold_bars = _fold_bars(task, bars, index)
        local = index % task.fold_size if task.fold_size else index
        result = run_single(fold_bars, grid.strategy, grid.params_at(local), options)
        artifacts[index] = {
            "equity.csv": equity_csv(fold_bars, result),
            "trades.csv": trades_csv(result),
        }
    artifact_seconds = time.perf_counter() - artifacts_started
    return ChunkResult(
        job_id=task.job_id,
        indices=indices,
        scores=scores,
        artifacts=artifacts,
        elapsed=time.perf_counter() - started,
        artifact_seconds=artifact_seconds,
        metrics_lines=metric_lines(metrics, len(indices)),
        params_lines="\n".join(json_rows(params, len(indices))),
        passes=passes,
    )


_warm_up_seconds: list[float] = []  # how long each warm-up in this process took


def warm_ups() -> list[float]:
    """Seconds each ``warm_up`` in this process took (empty: never warmed up)."""
    return list(_warm_up_seconds)


def yield_cpu(niceness: int) -> int:
    """Lower this process's CPU priority to ``niceness`` (never raise it back): every thread
    of it, since on Linux a priority belongs to a thread (threads started later inherit it
    from the thread that starts them). Returns the calling thread's niceness now."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the process
        threads = [0]
    for tid in threads:
        with contextlib.suppress(OSError):  # a thread that just ended
            if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


def warm_up() -> float:
    """Run one small chunk of every strategy (with artifacts), so that a worker process has
    imported everything and compiled — or loaded from numba's cache — every kernel before its
    first real chunk (otherwise ~0.7 s of a new worker's first chunk). Returns the seconds
    it took."""
    from optimizer_app.domain.datasets import BUNDLED_DATASETS, load_bundled_bars
    from optimizer_app.domain.strategies.registry import STRATEGIES

    started = time.perf_counter()
    bars = load_bundled_bars(BUNDLED_DATASETS[0].key)
    for name, strategy in STRATEGIES.items():
        space = {param: {"values": [value]} for param, value in strategy.defaults().items()}
        grid = cached_grid(name, space)
        run_chunk(
            ChunkTask(job_id="warm-up", strategy=name, raw_space=space,
                      indices=np.arange(grid.total), options={}, metric="sharpe", mode="max",
                      top_n=1),
            bars,
        )
    seconds = time.perf_counter() - started
    _warm_up_seconds.append(seconds)
    return seconds

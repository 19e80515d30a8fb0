"""What a worker runs for one chunk of a job: metrics for every index, artifacts for the best.

Imports the domain only, so a remote worker needs neither the database nor the web app.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from optimizer_app.core.priority import lower_thread
from optimizer_app.domain.artifact_files import write_task_files
from optimizer_app.domain.constraints import parse_constraints, passing
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import (
    BacktestOptions,
    equity_csv,
    evaluate_grid,
    run_single,
    trades_csv,
)
from optimizer_app.domain.failures import FailureCategory, category_of, describe
from optimizer_app.domain.grid import Grid, build_grid
from optimizer_app.domain.jsontext import metric_lines
from optimizer_app.domain.results_file import chunk_table, write_table
from optimizer_app.domain.subset import pack_indices, unpack_indices

__all__ = ["ChunkResult", "ChunkTask", "FailedRows", "bars_problem",
           "best_positions", "cached_grid", "run_chunk", "warm_up", "warm_ups"]

WORKER_GRID_CAP = 10_000_000  # jobs are validated against the configured cap when submitted


class _PackedIndices:
    """Pickled (between the orchestrator and the workers) with ``indices`` packed: see
    ``pack_indices``."""

    indices: np.ndarray

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "indices": pack_indices(self.indices)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({**state, "indices": unpack_indices(state["indices"])})


@dataclass
class ChunkTask(_PackedIndices):
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
    # The job's folder in the results store: the worker writes the chunk's rows there as one
    # columnar file (``domain.results_file``). Empty: no file (a warm-up).
    results_dir: str = ""
    # The job's folder in the artifact store when the worker shares its disk: the worker
    # writes its candidates' files there (``domain.artifact_files``) and sends back their
    # names. Empty: the files travel back in the result (another store, or a warm-up).
    artifacts_dir: str = ""
    # Walk-forward: combination ``fold * fold_size + i`` is the grid's ``i`` scored on the bars
    # ``windows[fold]`` (start, stop); 0 and empty for other jobs (domain.validation).
    fold_size: int = 0
    windows: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class FailedRows:
    """Combinations of a chunk that failed, why (a ``FailureCategory`` value) and how."""

    indices: np.ndarray
    category: str
    message: str


@dataclass
class ChunkResult(_PackedIndices):
    job_id: str
    indices: np.ndarray  # the combinations that ran (``failures`` holds those that did not)
    scores: np.ndarray
    artifacts: dict[int, dict[str, bytes]] = field(default_factory=dict)
    # Per candidate index, the names of the files written into ``ChunkTask.artifacts_dir``.
    artifacts_written: dict[int, list[str]] = field(default_factory=dict)
    elapsed: float = 0.0
    artifact_seconds: float = 0.0  # of ``elapsed``, making the artifacts
    # Which rows pass the job's result constraints (None: the job has none, all pass).
    passes: np.ndarray | None = None
    # The chunk's results file in the job's folder of the results store (the rows that ran),
    # and its size. The orchestrator commits its name; it never sees the other rows' metrics.
    file: str = ""
    file_bytes: int = 0
    # The rows that may enter the Top-N (positions in ``indices``, best first) and their
    # metrics as exact compact JSON arrays (``jsontext.metric_lines``), one per line.
    candidates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    metrics_lines: str = ""
    failures: list[FailedRows] = field(default_factory=list)

    def candidate_metrics(self) -> dict[int, str]:
        """``{position: metrics JSON}`` of the candidate rows."""
        lines = self.metrics_lines.split("\n") if self.metrics_lines else []
        return dict(zip(self.candidates.tolist(), lines, strict=True))


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


def _evaluate_part(task: ChunkTask, bars: Bars, grid: Grid, indices: np.ndarray,
                   options: BacktestOptions) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parameters and metrics of combinations (each walk-forward fold on its own bars)."""
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


def bars_problem(bars: Bars) -> str | None:
    """Why these bars cannot be backtested at all (None: they can): no bars, or prices that
    are missing, not finite or not positive."""
    if len(bars) == 0:
        return "the dataset window holds no bars"
    bad = np.zeros(len(bars), dtype=bool)
    for prices in (bars.open, bars.close):
        values = np.asarray(prices, dtype=np.float64)
        bad |= ~np.isfinite(values) | (values <= 0)
    if not bad.any():
        return None
    first = str(np.datetime_as_string(bars.dates[int(np.argmax(bad))], unit="D"))
    count = int(np.count_nonzero(bad))
    if count == len(bars):
        return "no valid prices in the dataset window (every open or close is missing or not positive)"
    return (f"{count:,} of {len(bars):,} bars have no valid open or close price (the first on "
            f"{first}); fix the dataset's gaps and re-run the failed combinations")


# How many failed evaluations one chunk may spend isolating the combinations that raise (by
# halving the failing part): one bad combination in 16,384 takes ~15, a run of k bad ones
# about 2k, so bystanders still run; past the budget, each part still failing fails whole.
BISECT_BUDGET = 256


Columns = dict[str, np.ndarray]


def _evaluate(
    task: ChunkTask, bars: Bars, grid: Grid, indices: np.ndarray, options: BacktestOptions
) -> tuple[np.ndarray, Columns, Columns, list[FailedRows]]:
    """(indices that ran, their parameters, their metrics, the failed rows): the combinations
    whose evaluation raises are isolated (halving the failing part, within ``BISECT_BUDGET``)
    and reported with their category."""
    parts: list[tuple[np.ndarray, Columns, Columns]] = []
    failed: dict[tuple[str, str], list[np.ndarray]] = {}
    budget = BISECT_BUDGET

    def attempt(part: np.ndarray) -> None:
        nonlocal budget
        try:
            parts.append((part, *_evaluate_part(task, bars, grid, part, options)))
            return
        except Exception as exc:  # classified below; the chunk goes on
            budget -= 1
            if len(part) > 1 and budget > 0:
                half = len(part) // 2
                attempt(part[:half])
                attempt(part[half:])
                return
            failed.setdefault((category_of(exc), describe(exc)), []).append(part)

    attempt(indices)
    failures = [FailedRows(np.concatenate(chunks), category, message)
                for (category, message), chunks in failed.items()]
    if len(parts) == 1:
        return (*parts[0], failures)
    if not parts:
        return np.empty(0, dtype=np.int64), {}, {}, failures

    def merged(k: int) -> Columns:
        return {key: np.concatenate([part[k][key] for part in parts]) for key in parts[0][k]}

    return np.concatenate([part[0] for part in parts]), merged(1), merged(2), failures


def _failed_chunk(task: ChunkTask, failures: list[FailedRows], started: float) -> ChunkResult:
    """A chunk none of whose combinations ran."""
    return ChunkResult(job_id=task.job_id, indices=np.empty(0, dtype=np.int64),
                       scores=np.empty(0, dtype=np.float64),
                       elapsed=time.perf_counter() - started, failures=failures)


def run_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    started = time.perf_counter()
    indices = np.asarray(task.indices, dtype=np.int64)
    problem = bars_problem(bars)
    if problem:
        failure = FailedRows(indices, FailureCategory.DATA.value, problem)
        return _failed_chunk(task, [failure], started)
    grid = cached_grid(task.strategy, task.raw_space)
    options = BacktestOptions.model_validate(task.options)
    indices, params, metrics, failures = _evaluate(task, bars, grid, indices, options)
    if not indices.size:
        return _failed_chunk(task, failures, started)
    scores = np.asarray(metrics[task.metric], dtype=np.float64)
    passes = passing(metrics, parse_constraints(task.constraints), len(indices))
    ranked = scores if passes is None else np.where(passes, scores, np.nan)
    candidates = best_positions(ranked, task.mode, task.top_n, task.threshold)
    file, file_bytes = "", 0
    if task.results_dir:
        table = chunk_table(indices=indices, params=params, scores=scores, passes=passes,
                            metrics=metrics)
        file, file_bytes = write_table(table, Path(task.results_dir))
    artifacts: dict[int, dict[str, bytes]] = {}
    written: dict[int, list[str]] = {}
    artifacts_started = time.perf_counter()
    for pos in candidates.tolist():
        index = int(indices[pos])
        fold_bars = _fold_bars(task, bars, index)
        local = index % task.fold_size if task.fold_size else index
        result = run_single(fold_bars, grid.strategy, grid.params_at(local), options)
        files = {"equity.csv": equity_csv(fold_bars, result), "trades.csv": trades_csv(result)}
        if task.artifacts_dir:
            written[index] = write_task_files(Path(task.artifacts_dir), uuid.UUID(task.job_id),
                                              index, files)
        else:
            artifacts[index] = files
    artifact_seconds = time.perf_counter() - artifacts_started
    return ChunkResult(
        job_id=task.job_id,
        indices=indices,
        scores=scores,
        artifacts=artifacts,
        artifacts_written=written,
        elapsed=time.perf_counter() - started,
        artifact_seconds=artifact_seconds,
        passes=passes,
        file=file,
        file_bytes=file_bytes,
        candidates=candidates,
        metrics_lines=metric_lines(
            {key: np.asarray(column)[candidates] for key, column in metrics.items()},
            len(candidates),
        ),
        failures=failures,
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
        lower_thread(tid, niceness)
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

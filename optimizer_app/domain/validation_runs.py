"""The out-of-sample computations of a finished job (pure: bars and numbers in, JSON out).

* Hold-out: every Top-N row backtested on the in-sample and on the out-of-sample window.
* Walk-forward: in each fold the grid's best combination (objective and constraints) on the
  training window, backtested on the test window that follows; the test windows' equity
  curves stitched into one, against buy-and-hold over the same bars.

Every window is backtested as a dataset of its own (see ``domain.validation``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optimizer_app.domain.constraints import Constraint
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from optimizer_app.domain.grid import Grid
from optimizer_app.domain.stats import years_between
from optimizer_app.domain.validation import (
    Holdout,
    WalkForward,
    best_index,
    holdout_windows,
    slice_bars,
    walkforward_windows,
)

GRID_BLOCK = 20_000  # combinations evaluated at once on a training window (bounded memory)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _metrics(values: dict[str, float | int]) -> dict[str, Any]:
    return {key: _clean(value) for key, value in values.items()}


def run_holdout(
    bars: Bars, spec: Holdout, *, strategy: str, rows: list[dict[str, Any]],
    options: BacktestOptions, metric: str,
) -> dict[str, Any]:
    """``rows``: the Top-N (``index``, ``params``), best first."""
    inside, outside = holdout_windows(spec, bars.dates)
    in_bars, out_bars = slice_bars(bars, inside), slice_bars(bars, outside)
    results = []
    for rank, row in enumerate(rows, start=1):
        params = dict(row["params"])
        in_metrics = _metrics(run_single(in_bars, strategy, params, options).metrics)
        out_metrics = _metrics(run_single(out_bars, strategy, params, options).metrics)
        results.append({
            "rank": rank,
            "index": int(row["index"]),
            "params": params,
            "inSample": in_metrics,
            "outOfSample": out_metrics,
            "inSampleScore": in_metrics.get(metric),
            "outOfSampleScore": out_metrics.get(metric),
        })
    return {
        "kind": "holdout",
        "inSample": inside.describe(bars),
        "outOfSample": outside.describe(bars),
        "rows": results,
    }


def holdout_sample(
    bars: Bars, spec: Holdout, *, grid: Grid, sample: list[tuple[int, float]],
    options: BacktestOptions, metric: str,
) -> list[dict[str, Any]]:
    """``sample``: (index, in-sample score) of stored combinations; each with its score on
    the out-of-sample window (one vectorized run over them all)."""
    if not sample:
        return []
    _, outside = holdout_windows(spec, bars.dates)
    indices = np.asarray([i for i, _ in sample], dtype=np.int64)
    scores = evaluate_grid(slice_bars(bars, outside), grid.strategy, grid.params_for(indices),
                           options)[metric]
    return [{"index": int(i), "inSampleScore": _clean(float(s)),
             "outOfSampleScore": _clean(float(o))}
            for (i, s), o in zip(sample, np.asarray(scores, dtype=np.float64).tolist(),
                                 strict=True)]


def _grid_metrics(bars: Bars, grid: Grid, options: BacktestOptions,
                  stopped: Callable[[], bool]) -> dict[str, np.ndarray] | None:
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, grid.total, GRID_BLOCK):
        if stopped():
            return None
        indices = np.arange(start, min(start + GRID_BLOCK, grid.total), dtype=np.int64)
        parts.append(evaluate_grid(bars, grid.strategy, grid.params_for(indices), options))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def choose_in_fold(
    train: Bars, grid: Grid, *, options: BacktestOptions, metric: str, mode: str,
    constraints: list[Constraint], stopped: Callable[[], bool] = lambda: False,
) -> int | None:
    """The grid index chosen on a training window (None: no combination has a score)."""
    metrics = _grid_metrics(train, grid, options, stopped)
    if metrics is None:
        return None
    return best_index(metrics, metric=metric, mode=mode, constraints=constraints)


def _annualized(start_value: float, end_value: float, dates: np.ndarray) -> float | None:
    years = years_between(dates)
    if years <= 0 or start_value <= 0:
        return None
    if end_value <= 0:
        return -1.0
    return float((end_value / start_value) ** (1.0 / years) - 1.0)


def run_walkforward(
    bars: Bars, spec: WalkForward, *, grid: Grid, options: BacktestOptions, metric: str,
    mode: str, constraints: list[Constraint],
    progress: Callable[[int], None] = lambda _fold: None,
    stopped: Callable[[], bool] = lambda: False,
    chosen_by: Callable[[int], int | None] | None = None,
) -> dict[str, Any] | None:
    """Every fold's choice and its out-of-sample result (None when ``stopped``). The choice
    is made here on each training window, or given by ``chosen_by(fold)`` (the grid index
    a job's run found best in that fold; None when it found none)."""
    cash = float(options.initial_cash)
    folds: list[dict[str, Any]] = []
    stitched_dates: list[str] = []
    stitched: list[float] = []
    level = cash
    in_returns: list[float] = []
    for k, (train_w, test_w) in enumerate(walkforward_windows(spec, len(bars))):
        train, test = slice_bars(bars, train_w), slice_bars(bars, test_w)
        chosen = (chosen_by(k) if chosen_by is not None else
                  choose_in_fold(train, grid, options=options, metric=metric, mode=mode,
                                 constraints=constraints, stopped=stopped))
        if stopped():
            return None
        fold: dict[str, Any] = {
            "fold": k + 1, "train": train_w.describe(bars), "test": test_w.describe(bars),
            "index": chosen,  # in the grid; the job's combination is fold * G + index
            "combination": None if chosen is None else k * grid.total + chosen,
        }
        if chosen is None:
            fold.update(params=None, inSample=None, outOfSample=None, inSampleScore=None,
                        outOfSampleScore=None)
            curve = np.full(len(test), cash)  # nothing chosen: the fold holds cash
        else:
            params = grid.params_at(chosen)
            in_run = run_single(train, grid.strategy, params, options)
            out_run = run_single(test, grid.strategy, params, options)
            in_metrics, out_metrics = _metrics(in_run.metrics), _metrics(out_run.metrics)
            fold.update(params=params, inSample=in_metrics, outOfSample=out_metrics,
                        inSampleScore=in_metrics.get(metric),
                        outOfSampleScore=out_metrics.get(metric))
            curve = np.asarray(out_run.equity, dtype=np.float64)
            annual = _annualized(cash, float(in_run.equity[-1]), train.dates)
            if annual is not None:
                in_returns.append(annual)
        scaled = curve * (level / cash)
        level = float(scaled[-1])
        stitched.extend(scaled.tolist())
        stitched_dates.extend(d.decode("ascii") for d in test.date_texts)
        folds.append(fold)
        progress(k + 1)
    first_test = walkforward_windows(spec, len(bars))[0][1].start
    span = bars.dates[first_test:]
    closes = bars.close[first_test:]
    benchmark = cash * closes / closes[0]
    out_annual = _annualized(cash, level, span)
    in_annual = float(np.mean(in_returns)) if in_returns else None
    efficiency = (out_annual / in_annual
                  if out_annual is not None and in_annual not in (None, 0.0) else None)
    return {
        "kind": "walkforward",
        "folds": folds,
        "stitched": {
            "dates": stitched_dates,
            "equity": [_clean(v) for v in stitched],
            "benchmark": [_clean(v) for v in benchmark.tolist()],
        },
        "outOfSampleAnnualizedReturn": _clean(out_annual),
        "inSampleAnnualizedReturn": _clean(in_annual),
        "efficiency": _clean(efficiency),
    }

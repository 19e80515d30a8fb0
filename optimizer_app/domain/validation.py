"""Validation of a grid's winners on bars they were not chosen on: hold-out and walk-forward
specifications, their windows, and the pure computations over them.

Indicator warm-up: every out-of-sample backtest starts cold on its own window. The window's
bars are cut out of the dataset and backtested exactly as a dataset holding only those bars
would be (indicators are computed from the window's first bar on, so no earlier price can
reach a signal). An out-of-sample result is therefore the same as an independent single
backtest over that window, and no bar outside a window influences it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic.alias_generators import to_camel

from optimizer_app.domain.constraints import Constraint, passing
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from optimizer_app.domain.grid import Grid

__all__ = [
    "MIN_WINDOW_BARS",
    "Holdout",
    "ValidationSpec",
    "WalkForward",
    "Window",
    "best_index",
    "check_fits",
    "holdout_windows",
    "in_sample_window",
    "neighbour_scores",
    "parse_validation",
    "slice_bars",
    "walkforward_windows",
]

MIN_WINDOW_BARS = 50  # the fewest bars any in-sample, training or test window may hold
MAX_FOLDS = 50


class _Spec(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Holdout(_Spec):
    """Keep the last part of the dataset out of sample: a ``fraction`` of its bars, or every
    bar from ``start`` on (exactly one of the two)."""

    kind: Literal["holdout"]
    fraction: float | None = Field(None, gt=0, le=0.9, allow_inf_nan=False)
    start: date | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Holdout:
        if (self.fraction is None) == (self.start is None):
            raise ValueError("give either fraction (0 to 0.9) or start (a date), not both")
        return self


class WalkForward(_Spec):
    """``folds`` windows of ``trainBars`` (rolling; anchored: growing from the first bar of
    the first fold) each followed by ``testBars`` out of sample; the folds end at the last
    bar of the dataset."""

    kind: Literal["walkforward"]
    folds: int = Field(ge=1, le=MAX_FOLDS)
    train_bars: int = Field(ge=MIN_WINDOW_BARS)
    test_bars: int = Field(ge=MIN_WINDOW_BARS)
    anchored: bool = False


ValidationSpec = Annotated[Holdout | WalkForward, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[Holdout | WalkForward] = TypeAdapter(ValidationSpec)


def parse_validation(raw: Any) -> Holdout | WalkForward | None:
    """A validated specification (raise pydantic's ValidationError); None is none."""
    if raw is None:
        return None
    return _ADAPTER.validate_python(raw)


def as_json(spec: Holdout | WalkForward | None) -> dict[str, Any] | None:
    return None if spec is None else spec.model_dump(mode="json", by_alias=True,
                                                      exclude_none=True)


@dataclass(frozen=True)
class Window:
    """Bars ``start`` to ``stop`` (exclusive) of a dataset."""

    start: int
    stop: int

    @property
    def bars(self) -> int:
        return self.stop - self.start

    def describe(self, bars: Bars) -> dict[str, Any]:
        return {
            "start": str(bars.dates[self.start]),
            "end": str(bars.dates[self.stop - 1]),
            "bars": self.bars,
            "firstBar": self.start,
        }


def slice_bars(bars: Bars, window: Window) -> Bars:
    """The window's bars as a dataset of their own (copies: nothing outside is reachable)."""
    part = slice(window.start, window.stop)
    return Bars(
        dates=bars.dates[part].copy(),
        open=bars.open[part].copy(),
        high=bars.high[part].copy(),
        low=bars.low[part].copy(),
        close=bars.close[part].copy(),
        volume=bars.volume[part].copy(),
    )


def _holdout_split(spec: Holdout, dates: np.ndarray) -> int:
    n = len(dates)
    if spec.fraction is not None:
        return n - round(n * spec.fraction)
    assert spec.start is not None
    return int(np.searchsorted(dates, np.datetime64(spec.start, "D"), side="left"))


def holdout_windows(spec: Holdout, dates: np.ndarray) -> tuple[Window, Window]:
    """(in sample, out of sample). Raise ValueError when either side is too short."""
    n = len(dates)
    split = _holdout_split(spec, dates)
    if split < MIN_WINDOW_BARS or n - split < MIN_WINDOW_BARS:
        where = (f"{spec.fraction:g} of the bars" if spec.fraction is not None
                 else f"from {spec.start}")
        first, last = str(dates[0]), str(dates[-1])
        raise ValueError(
            f"holding out {where} leaves {split} bars in sample and {n - split} out of sample"
            f" (the dataset has {n} bars, {first} to {last}); each side needs at least"
            f" {MIN_WINDOW_BARS}"
        )
    return Window(0, split), Window(split, n)


def walkforward_windows(spec: WalkForward, n: int) -> list[tuple[Window, Window]]:
    """Each fold's (training, test) windows, the last test window ending at the last bar.
    Raise ValueError when the folds do not fit in ``n`` bars."""
    needed = spec.train_bars + spec.folds * spec.test_bars
    if needed > n:
        raise ValueError(
            f"{spec.folds} folds of {spec.train_bars} training and {spec.test_bars} test bars"
            f" need {needed:,} bars; the dataset has {n:,} (use fewer or shorter folds)"
        )
    offset = n - needed
    folds = []
    for k in range(spec.folds):
        train_stop = offset + spec.train_bars + k * spec.test_bars
        train_start = offset if spec.anchored else train_stop - spec.train_bars
        folds.append((Window(train_start, train_stop),
                      Window(train_stop, train_stop + spec.test_bars)))
    return folds


def in_sample_window(spec: Holdout | WalkForward | None, dates: np.ndarray) -> Window:
    """The bars the job's grid is scored on: everything before the hold-out; the whole
    dataset otherwise (walk-forward chooses on each fold's training window separately)."""
    if isinstance(spec, Holdout):
        return holdout_windows(spec, dates)[0]
    return Window(0, len(dates))


def check_fits(spec: Holdout | WalkForward | None, dates: np.ndarray) -> None:
    """Raise ValueError (a message saying what to change) when the windows do not fit."""
    if isinstance(spec, Holdout):
        holdout_windows(spec, dates)
    elif isinstance(spec, WalkForward):
        walkforward_windows(spec, len(dates))


def best_index(
    metrics: dict[str, np.ndarray], *, metric: str, mode: str,
    constraints: list[Constraint],
) -> int | None:
    """Position of the best score among combinations passing the constraints (the earliest
    of equal scores), or None when none has a score."""
    scores = np.asarray(metrics[metric], dtype=np.float64)
    mask = passing(metrics, constraints, len(scores))
    ranked = scores if mask is None else np.where(mask, scores, np.nan)
    finite = np.flatnonzero(np.isfinite(ranked))
    if not finite.size:
        return None
    values = ranked[finite]
    best = values.max() if mode == "max" else values.min()
    return int(finite[np.flatnonzero(values == best)[0]])


def single_metrics(bars: Bars, strategy: str, params: dict[str, Any],
                   options: BacktestOptions) -> dict[str, float | int]:
    return run_single(bars, strategy, params, options).metrics


def neighbour_scores(
    bars: Bars, grid: Grid, indices: list[int], *, metric: str,
    options: BacktestOptions,
) -> list[dict[str, Any]]:
    """For each combination index: its grid neighbours (one step up or down in one
    parameter, within the strategy's constraint) and their mean and worst score (NaN
    scores are left out; mode decides "worst" later)."""
    neighbours = [grid.neighbours(i) for i in indices]
    flat = np.asarray([j for group in neighbours for j in group], dtype=np.int64)
    scores = np.empty(0)
    if flat.size:
        params = grid.params_for(flat)
        scores = np.asarray(evaluate_grid(bars, grid.strategy, params, options)[metric],
                            dtype=np.float64)
    out: list[dict[str, Any]] = []
    at = 0
    for index, group in zip(indices, neighbours, strict=True):
        values = scores[at : at + len(group)]
        at += len(group)
        out.append({"index": index, "neighbours": group, "scores": values.tolist()})
    return out


class FoldedGrid(Grid):
    """A walk-forward job's combinations: every fold runs the whole grid on its own training
    window, so combination ``fold * G + i`` is the grid's combination ``i`` in fold ``fold``
    (``G`` the grid's size). Parameters and neighbours are the grid's."""

    def __init__(self, inner: Grid, folds: int) -> None:
        self.__dict__.update(inner.__dict__)
        self.inner = inner
        self.folds = folds
        self.fold_size = inner.total
        self.total = inner.total * folds

    def params_for(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total):
            raise IndexError(f"combination indices must be in 0..{self.total - 1}")
        return self.inner.params_for(idx % self.fold_size)

    def neighbours(self, i: int) -> list[int]:
        fold, local = divmod(int(i), self.fold_size)
        return [fold * self.fold_size + j for j in self.inner.neighbours(local)]


def job_grid(grid: Grid, spec: Holdout | WalkForward | None) -> Grid:
    """The grid a job runs: folded for walk-forward, the grid itself otherwise."""
    return FoldedGrid(grid, spec.folds) if isinstance(spec, WalkForward) else grid


def fold_windows(spec: Holdout | WalkForward | None, n: int) -> list[tuple[int, int]]:
    """The training windows (start, stop) a walk-forward job's folds are scored on, in fold
    order; empty for other jobs."""
    if not isinstance(spec, WalkForward):
        return []
    return [(train.start, train.stop) for train, _ in walkforward_windows(spec, n)]

"""Hold-out and walk-forward windows, and out-of-sample results built correctly."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError

from optimizer_app.domain.constraints import parse_constraints
from optimizer_app.domain.datasets import Bars, bars_to_csv, load_bundled_bars, parse_csv
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.validation import (
    FoldedGrid,
    Holdout,
    WalkForward,
    Window,
    check_fits,
    fold_windows,
    holdout_windows,
    job_grid,
    parse_validation,
    slice_bars,
    walkforward_windows,
)
from optimizer_app.domain.validation_runs import choose_in_fold, run_holdout, run_walkforward
from optimizer_app.domain.worker import ChunkTask, run_chunk

SPACE = {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"start": 10, "stop": 200, "step": 10}}
OPTIONS = BacktestOptions()


@pytest.fixture(scope="module")
def bars() -> Bars:
    return load_bundled_bars("goog-daily")


def independent(bars: Bars, window: Window) -> Bars:
    """The window's bars as their own dataset, through the CSV a user would upload."""
    data = bars_to_csv(slice_bars(bars, window))
    return parse_csv(data, max_bytes=len(data))


def test_a_fraction_keeps_the_last_bars_out_of_sample(bars: Bars) -> None:
    spec = parse_validation({"kind": "holdout", "fraction": 0.3})
    assert isinstance(spec, Holdout)
    inside, outside = holdout_windows(spec, bars.dates)
    n = len(bars)
    assert (inside.start, inside.stop, outside.stop) == (0, outside.start, n)
    assert outside.bars == round(n * 0.3)


def test_a_start_date_splits_on_the_first_bar_on_or_after_it(bars: Bars) -> None:
    spec = parse_validation({"kind": "holdout", "start": "2012-01-01"})
    assert isinstance(spec, Holdout)
    _, outside = holdout_windows(spec, bars.dates)
    assert str(bars.dates[outside.start]) >= "2012-01-01"
    assert str(bars.dates[outside.start - 1]) < "2012-01-01"


@pytest.mark.parametrize("raw", [
    {"kind": "holdout", "fraction": 0},
    {"kind": "holdout", "fraction": 0.95},
    {"kind": "holdout"},
    {"kind": "holdout", "fraction": 0.3, "start": "2012-01-01"},
    {"kind": "holdout", "fraction": 0.3, "extra": 1},
    {"kind": "walkforward", "folds": 0, "trainBars": 750, "testBars": 250},
    {"kind": "walkforward", "folds": 3, "trainBars": 10, "testBars": 250},
    {"kind": "sometimes"},
])
def test_bad_settings_are_refused(raw: dict) -> None:
    with pytest.raises(ValidationError):
        parse_validation(raw)


@pytest.mark.parametrize("raw", [
    {"kind": "holdout", "start": "2004-09-01"},  # too few bars in sample
    {"kind": "holdout", "start": "2013-12-01"},  # too few out of sample
    {"kind": "holdout", "start": "2030-01-01"},  # after the last bar
    {"kind": "walkforward", "folds": 10, "trainBars": 750, "testBars": 250},
])
def test_windows_that_do_not_fit_the_dataset_say_why(bars: Bars, raw: dict) -> None:
    with pytest.raises(ValueError, match="bars"):
        check_fits(parse_validation(raw), bars.dates)


def test_walkforward_folds_end_at_the_last_bar_rolling_and_anchored(bars: Bars) -> None:
    n = len(bars)
    rolling = walkforward_windows(WalkForward(kind="walkforward", folds=3, train_bars=500,
                                              test_bars=200), n)
    anchored = walkforward_windows(WalkForward(kind="walkforward", folds=3, train_bars=500,
                                               test_bars=200, anchored=True), n)
    assert rolling[-1][1].stop == n and anchored[-1][1].stop == n
    for (train, test), (a_train, a_test) in zip(rolling, anchored, strict=True):
        assert train.stop == test.start and train.bars == 500 and test.bars == 200
        assert a_train.start == anchored[0][0].start and a_train.stop == a_test.start
    assert [t.start for _, t in rolling[1:]] == [t.stop for _, t in rolling[:-1]]


def test_holdout_out_of_sample_equals_an_independent_backtest(bars: Bars) -> None:
    spec = Holdout(kind="holdout", fraction=0.3)
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    rows = [{"index": i, "params": grid.params_at(i)} for i in (0, 17, 60, 120)]
    result = run_holdout(bars, spec, strategy="sma_cross", rows=rows, options=OPTIONS,
                         metric="sharpe")
    inside, outside = holdout_windows(spec, bars.dates)
    out_bars, in_bars = independent(bars, outside), independent(bars, inside)
    assert result["outOfSample"]["bars"] == len(out_bars)
    for row in result["rows"]:
        expected_out = run_single(out_bars, "sma_cross", row["params"], OPTIONS).metrics
        expected_in = run_single(in_bars, "sma_cross", row["params"], OPTIONS).metrics
        for key, value in expected_out.items():
            assert row["outOfSample"][key] == (value if np.isfinite(value) else None), key
        for key, value in expected_in.items():
            assert row["inSample"][key] == (value if np.isfinite(value) else None), key
        assert row["outOfSampleScore"] == row["outOfSample"]["sharpe"]


def test_a_folds_choice_ignores_its_test_window(bars: Bars) -> None:
    """Perturbing every price of a fold's test window (and everything after it) leaves the
    parameters chosen in that fold unchanged."""
    spec = WalkForward(kind="walkforward", folds=3, train_bars=600, test_bars=300)
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    constraints = parse_constraints([{"metric": "trades", "op": ">=", "value": 1}])
    kwargs = {"grid": grid, "options": OPTIONS, "metric": "sharpe", "mode": "max",
              "constraints": constraints}
    original = run_walkforward(bars, spec, **kwargs)
    assert original is not None
    rng = np.random.default_rng(7)
    for k, (_, test) in enumerate(walkforward_windows(spec, len(bars))):
        noise = np.ones(len(bars))
        noise[test.start:] = rng.uniform(0.5, 1.5, len(bars) - test.start)
        shaken = Bars(dates=bars.dates, open=bars.open * noise, high=bars.high * noise,
                      low=bars.low * noise, close=bars.close * noise, volume=bars.volume)
        perturbed = run_walkforward(shaken, spec, **kwargs)
        assert perturbed is not None
        assert perturbed["folds"][k]["params"] == original["folds"][k]["params"]
        assert perturbed["folds"][k]["outOfSample"] != original["folds"][k]["outOfSample"]


def test_walkforward_chooses_the_best_on_training_and_tests_it_independently(bars: Bars) -> None:
    spec = WalkForward(kind="walkforward", folds=2, train_bars=700, test_bars=300)
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    result = run_walkforward(bars, spec, grid=grid, options=OPTIONS, metric="sharpe",
                             mode="max", constraints=[])
    assert result is not None
    for fold, (train, test) in zip(result["folds"], walkforward_windows(spec, len(bars)),
                                   strict=True):
        scores = evaluate_grid(independent(bars, train), "sma_cross",
                               grid.params_for(np.arange(grid.total)), OPTIONS)["sharpe"]
        assert fold["index"] == int(np.nanargmax(scores))
        expected = run_single(independent(bars, test), "sma_cross", fold["params"], OPTIONS)
        assert fold["outOfSample"]["finalEquity"] == expected.metrics["finalEquity"]
    stitched = result["stitched"]
    assert len(stitched["dates"]) == len(stitched["equity"]) == len(stitched["benchmark"]) == 600
    assert stitched["equity"][0] == OPTIONS.initial_cash
    assert result["efficiency"] == pytest.approx(
        result["outOfSampleAnnualizedReturn"] / result["inSampleAnnualizedReturn"])


def test_choice_respects_constraints_and_mode(bars: Bars) -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    train = slice_bars(bars, Window(0, 800))
    metrics = evaluate_grid(train, "sma_cross", grid.params_for(np.arange(grid.total)), OPTIONS)
    lowest = choose_in_fold(train, grid, options=OPTIONS, metric="maxDrawdown", mode="min",
                            constraints=parse_constraints([{"metric": "trades", "op": ">=",
                                                            "value": 5}]))
    assert lowest is not None and metrics["trades"][lowest] >= 5
    allowed = metrics["trades"] >= 5
    assert metrics["maxDrawdown"][lowest] == metrics["maxDrawdown"][allowed].min()


def test_start_may_be_given_as_a_date() -> None:
    spec = Holdout(kind="holdout", start=date(2012, 1, 1))
    assert spec.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "kind": "holdout", "start": "2012-01-01"}


def test_neighbours_are_one_step_in_one_parameter_within_the_constraint() -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    for i in range(grid.total):
        here = grid.params_at(i)
        for j in grid.neighbours(i):
            there = grid.params_at(j)
            moved = [k for k in here if here[k] != there[k]]
            assert len(moved) == 1
            k = moved[0]
            values = grid.values[k]
            assert abs(values.index(here[k]) - values.index(there[k])) == 1
            assert there["fast"] < there["slow"]
        assert len(grid.neighbours(i)) <= 4


def test_a_folded_grid_repeats_the_grid_once_per_fold() -> None:
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    folded = job_grid(grid, WalkForward(kind="walkforward", folds=3, train_bars=500,
                                        test_bars=200))
    assert isinstance(folded, FoldedGrid) and folded.total == 3 * grid.total
    assert folded.params_at(2 * grid.total + 7) == grid.params_at(7)
    assert folded.neighbours(grid.total + 30) == [grid.total + j for j in grid.neighbours(30)]
    with pytest.raises(IndexError):
        folded.params_for(np.array([3 * grid.total]))
    assert job_grid(grid, Holdout(kind="holdout", fraction=0.2)) is grid


def test_a_worker_scores_each_fold_on_its_training_window(bars: Bars) -> None:
    spec = WalkForward(kind="walkforward", folds=3, train_bars=500, test_bars=200)
    grid = build_grid("sma_cross", SPACE, cap=10_000)
    windows = fold_windows(spec, len(bars))
    indices = np.array([3, grid.total + 3, 2 * grid.total + 40, 2 * grid.total + 41])
    task = ChunkTask(job_id="j", strategy="sma_cross", raw_space=SPACE, indices=indices,
                     options={}, metric="sharpe", mode="max", top_n=2,
                     fold_size=grid.total, windows=windows)
    result = run_chunk(task, bars)
    for pos, index in enumerate(indices.tolist()):
        fold, local = divmod(index, grid.total)
        train = slice_bars(bars, Window(*windows[fold]))
        expected = run_single(train, "sma_cross", grid.params_at(local), OPTIONS)
        assert result.scores[pos] == pytest.approx(expected.metrics["sharpe"], rel=1e-12)
    for index, files in result.artifacts.items():  # artifacts on the fold's window too
        fold = index // grid.total
        assert files["equity.csv"].count(b"\n") == windows[fold][1] - windows[fold][0] + 1

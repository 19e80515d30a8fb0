from __future__ import annotations

import itertools

import numpy as np
import pydantic
import pytest

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import (
    METRIC_KEYS,
    BacktestOptions,
    equity_csv,
    evaluate_grid,
    run_single,
    trades_csv,
)
from optimizer_app.domain.strategies import STRATEGIES, UnknownStrategyError, get_strategy
from tests.unit.domain.factories import random_walk_bars

PARAMS = {
    "sma_cross": {"fast": np.array([3, 5, 10, 20, 50]), "slow": np.array([8, 30, 40, 60, 200])},
    "rsi_reversion": {
        "period": np.array([2, 5, 14, 14, 30]),
        "lower": np.array([10.0, 30.0, 30.0, 45.5, 40.0]),
        "upper": np.array([60.0, 70.0, 50.5, 55.0, 60.0]),
    },
    "bollinger_breakout": {
        "period": np.array([5, 10, 20, 50, 100]),
        "k": np.array([0.5, 1.0, 2.0, 2.5, 1.5]),
    },
    "donchian_breakout": {
        "entry": np.array([5, 10, 20, 50, 3]),
        "exit": np.array([3, 20, 10, 25, 100]),
    },
}
OPTIONS = [
    BacktestOptions(direction=d, sizing=s, slippage=slip)
    for d, s, slip in itertools.product(
        ("long", "long_short"), ("fractional", "whole"), (0.0, 0.001)
    )
]


def test_every_registered_strategy_has_test_params() -> None:
    assert set(PARAMS) == set(STRATEGIES)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_grid_metrics_equal_single_run_metrics_exactly(goog: Bars, name: str) -> None:
    params = PARAMS[name]
    for options in OPTIONS:
        grid = evaluate_grid(goog, name, params, options)
        assert list(grid) == list(METRIC_KEYS)
        for j in range(len(params[next(iter(params))])):
            combo = {k: v[j].item() for k, v in params.items()}
            single = run_single(goog, name, combo, options)
            for key in METRIC_KEYS:
                a, b = grid[key][j], single.metrics[key]
                assert (np.isnan(a) and np.isnan(b)) or a == b, (name, options, combo, key)
            assert single.metrics["finalEquity"] == single.equity[-1]
            assert single.metrics["trades"] == len(single.trades)


def test_results_are_bit_identical_between_runs(goog: Bars) -> None:
    fast, slow = np.meshgrid(np.arange(2, 60, 3), np.arange(10, 200, 7), indexing="ij")
    keep = fast < slow
    params = {"fast": fast[keep], "slow": slow[keep]}
    options = BacktestOptions(direction="long_short")
    first = evaluate_grid(goog, "sma_cross", params, options)
    second = evaluate_grid(goog, "sma_cross", params, options)
    shuffled = np.random.default_rng(3).permutation(len(params["fast"]))
    third = evaluate_grid(goog, "sma_cross", {k: v[shuffled] for k, v in params.items()}, options)
    for key in METRIC_KEYS:
        assert first[key].tobytes() == second[key].tobytes()
        assert first[key][shuffled].tobytes() == third[key].tobytes()


def _perturbed_after(bars: Bars, t: int, seed: int) -> Bars:
    """The same bars up to ``t``; a different (valid) path after it."""
    other = random_walk_bars(len(bars), seed)
    scale = bars.close[t] / other.close[t]

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a[: t + 1], b[t + 1 :] * scale])

    return Bars(
        dates=bars.dates,
        open=mix(bars.open, other.open),
        high=mix(bars.high, other.high),
        low=mix(bars.low, other.low),
        close=mix(bars.close, other.close),
        volume=bars.volume,
    )


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_no_look_ahead(goog: Bars, name: str) -> None:
    strategy = get_strategy(name)
    params = PARAMS[name]
    n = len(params[next(iter(params))])
    options = BacktestOptions(direction="long_short", sizing="whole")
    for t, seed in ((400, 1), (1000, 2), (1700, 3)):
        changed = _perturbed_after(goog, t, seed)
        sig_a = np.empty((n, len(goog)), np.int8)
        sig_b = np.empty((n, len(goog)), np.int8)
        strategy.prepare(goog, params)(0, n, sig_a)
        strategy.prepare(changed, params)(0, n, sig_b)
        assert np.array_equal(sig_a[:, : t + 1], sig_b[:, : t + 1])
        assert not np.array_equal(sig_a, sig_b)  # the change is visible after t
        for j in range(n):
            combo = {k: v[j].item() for k, v in params.items()}
            a = run_single(goog, name, combo, options)
            b = run_single(changed, name, combo, options)
            assert np.array_equal(a.equity[: t + 1], b.equity[: t + 1])
            done_a = [x for x in a.trades if x["exitDate"] <= str(goog.dates[t])]
            done_b = [x for x in b.trades if x["exitDate"] <= str(goog.dates[t])]
            assert done_a == done_b


def test_backtest_options_aliases_defaults_and_bounds() -> None:
    options = BacktestOptions.model_validate({"initialCash": 5000, "direction": "long_short"})
    assert options.initial_cash == 5000 and options.direction == "long_short"
    assert options.commission == 0.002 and options.slippage == 0 and options.sizing == "fractional"
    assert BacktestOptions(initial_cash=1.0).model_dump(by_alias=True)["initialCash"] == 1.0
    for bad in (
        {"initialCash": 0},
        {"commission": 0.2},
        {"slippage": -0.01},
        {"direction": "short"},
        {"sizing": "half"},
        {"leverage": 2},
    ):
        with pytest.raises(pydantic.ValidationError):
            BacktestOptions.model_validate(bad)


def test_unknown_strategy_and_bad_columns(goog: Bars) -> None:
    with pytest.raises(UnknownStrategyError, match="valid names: bollinger_breakout"):
        evaluate_grid(goog, "nope", {}, BacktestOptions())
    with pytest.raises(ValueError, match="missing"):
        evaluate_grid(goog, "sma_cross", {"fast": np.array([2])}, BacktestOptions())
    with pytest.raises(ValueError, match="length"):
        evaluate_grid(
            goog, "sma_cross", {"fast": np.array([2, 3]), "slow": np.array([9])}, BacktestOptions()
        )
    empty = evaluate_grid(
        goog, "sma_cross", {"fast": np.array([], int), "slow": np.array([], int)}, BacktestOptions()
    )
    assert all(len(v) == 0 for v in empty.values())


def test_equity_and_trades_csv(goog: Bars) -> None:
    result = run_single(goog, "sma_cross", {"fast": 10, "slow": 30}, BacktestOptions())
    lines = equity_csv(goog, result).decode().splitlines()
    assert lines[0] == "date,equity,drawdown"
    assert len(lines) == len(goog) + 1
    date, equity, drawdown = lines[-1].split(",")
    assert date == "2013-03-01" and float(equity) == result.metrics["finalEquity"]
    drawdowns = [float(line.split(",")[2]) for line in lines[1:]]
    assert max(drawdowns) == pytest.approx(result.metrics["maxDrawdown"], rel=1e-12)
    rows = trades_csv(result).decode().splitlines()
    assert rows[0] == "entryDate,exitDate,direction,size,entryPrice,exitPrice,pnl,returnPct,status"
    closed = [r for r in rows[1:] if r.endswith(",closed")]
    assert len(closed) == result.metrics["trades"]
    assert len(rows) - 1 == len(closed) + (result.open_position is not None)

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer_app.domain import indicators
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.strategies import (
    STRATEGIES,
    ParamSpec,
    SignalFiller,
    Strategy,
    UnknownStrategyError,
    get_strategy,
)
from optimizer_app.domain.strategies._signals import fill_series_cross
from tests.unit.domain.test_engine_oracle import reference_rsi


def test_registry_declares_the_four_strategies_with_ranges() -> None:
    assert sorted(STRATEGIES) == [
        "bollinger_breakout",
        "donchian_breakout",
        "rsi_reversion",
        "sma_cross",
    ]
    sma = get_strategy("sma_cross")
    assert [(p.name, p.type, p.min, p.max) for p in sma.params] == [
        ("fast", "int", 2, 200),
        ("slow", "int", 3, 400),
    ]
    assert sma.constraint_text == "fast < slow"
    assert get_strategy("bollinger_breakout").param("k").type == "float"
    for strategy in STRATEGIES.values():
        assert strategy.label and strategy.description
        for spec in strategy.params:
            assert spec.min <= spec.default <= spec.max and spec.label and spec.description
        defaults = {k: np.array([v]) for k, v in strategy.defaults().items()}
        assert strategy.allowed(defaults).tolist() == [True]
    with pytest.raises(
        UnknownStrategyError, match="valid names: bollinger_breakout, donchian_breakout"
    ):
        get_strategy("macd")


def test_constraints_are_vectorized() -> None:
    sma = get_strategy("sma_cross")
    assert sma.allowed(
        {"fast": np.array([5, 10, 20]), "slow": np.array([10, 10, 10])}
    ).tolist() == [True, False, False]
    rsi = get_strategy("rsi_reversion")
    allowed = rsi.allowed(
        {
            "period": np.array([14, 14]),
            "lower": np.array([30.0, 50.0]),
            "upper": np.array([70.0, 50.0]),
        }
    )
    assert allowed.tolist() == [True, False]


def test_indicators_are_bit_identical_to_the_reference(goog: Bars) -> None:
    close = pd.Series(goog.close)
    for window in (2, 7, 20, 24, 32, 200):
        assert np.array_equal(
            indicators.sma(goog, window), close.rolling(window).mean(), equal_nan=True
        )
        assert np.array_equal(
            indicators.rolling_std(goog, window), close.rolling(window).std(ddof=0), equal_nan=True
        )
    for period in (2, 14, 30):
        assert np.array_equal(
            indicators.rsi(goog, period), reference_rsi(goog.close, period), equal_nan=True
        )
        assert np.isnan(indicators.rsi(goog, period)[:period]).all()
    hh = indicators.highest_high_before(goog, 5)
    assert hh[5] == goog.high[:5].max() and np.isnan(hh[4])


def test_rsi_of_a_flat_window_is_zero_like_ta_lib(goog: Bars) -> None:
    flat = Bars(
        dates=goog.dates[:30],
        open=np.full(30, 5.0),
        high=np.full(30, 5.0),
        low=np.full(30, 5.0),
        close=np.full(30, 5.0),
        volume=np.zeros(30),
    )
    assert indicators.rsi(flat, 14)[14:].tolist() == [0.0] * 16


class CloseCrossSma(Strategy):
    """The docs' example fifth strategy, verbatim."""

    name = "close_cross_sma"
    label = "Close crosses SMA"
    description = "Go long when the close crosses above its SMA; leave when it crosses below."
    params = (ParamSpec("period", "int", 2, 400, 50, "Period", "Bars in the moving average"),)

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        smas, rows = indicators.table(bars, indicators.sma, params["period"])
        close = bars.close.reshape(1, -1)
        zeros = np.zeros(len(rows), dtype=np.int64)

        def fill(start: int, stop: int, out: np.ndarray) -> None:
            fill_series_cross(close, zeros, smas, rows, start, stop, out)

        return fill


def test_a_fifth_strategy_needs_only_its_module_and_a_registry_entry(
    goog: Bars, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STRATEGIES, "close_cross_sma", CloseCrossSma())
    grid = build_grid(
        "close_cross_sma", {"period": {"start": 10, "stop": 100, "step": 10}}, cap=1000
    )
    options = BacktestOptions()
    metrics = evaluate_grid(
        goog, "close_cross_sma", grid.params_for(np.arange(grid.total)), options
    )
    single = run_single(goog, "close_cross_sma", grid.params_at(3), options)
    assert metrics["finalEquity"][3] == single.metrics["finalEquity"]
    assert (metrics["trades"] > 10).all()
    # sanity: same as sma_cross would be with a 1-bar "fast" average (the close itself)
    first_cross = single.trades[0]["entryDate"]
    sma40 = pd.Series(goog.close).rolling(40).mean().to_numpy()
    above = (goog.close[:-1] < sma40[:-1]) & (goog.close[1:] > sma40[1:])
    assert str(goog.dates[np.flatnonzero(above)[0] + 2]) == first_cross


def test_indicator_cache_stays_within_its_byte_budget(
    goog: Bars, monkeypatch: pytest.MonkeyPatch
) -> None:
    indicators.clear_cache()
    monkeypatch.setattr(indicators, "_CACHE_BYTES", 3 * goog.close.nbytes)
    for window in range(2, 12):
        assert np.array_equal(
            indicators.sma(goog, window),
            pd.Series(goog.close).rolling(window).mean(),
            equal_nan=True,
        )
    assert len(indicators._cache) == 3
    assert indicators._cached_bytes == 3 * goog.close.nbytes
    indicators.clear_cache()


def test_the_registry_loads_each_listed_module_s_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from optimizer_app.domain.strategies import registry

    module = types.ModuleType("optimizer_app.domain.strategies.close_cross_sma")
    module.STRATEGY = CloseCrossSma()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert registry._load("close_cross_sma") is module.STRATEGY

    broken = types.ModuleType("optimizer_app.domain.strategies.not_a_strategy")
    broken.STRATEGY = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    with pytest.raises(TypeError, match="must be a Strategy"):
        registry._load("not_a_strategy")
    assert list(STRATEGIES) == [registry._load(m).name for m in registry.MODULES]

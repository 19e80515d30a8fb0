"""Metrics on hand-made bars and signals, computed by hand (or by the plain formula)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer_app.domain.engine import BacktestOptions, backtest_signals
from optimizer_app.domain.stats import METRIC_KEYS
from tests.unit.domain.factories import make_bars

NO_COSTS = BacktestOptions(commission=0.0)


def signals(n: int, at: dict[int, int]) -> np.ndarray:
    sig = np.zeros(n, dtype=np.int8)
    for bar, value in at.items():
        sig[bar] = value
    return sig


def sharpe_of(equity: np.ndarray) -> float:
    r = equity[1:] / equity[:-1] - 1
    return float(r.mean() / r.std(ddof=1) * math.sqrt(252))


def sortino_of(equity: np.ndarray) -> float:
    r = equity[1:] / equity[:-1] - 1
    downside = math.sqrt(float(np.sum(np.minimum(r, 0) ** 2)) / (len(r) - 1))
    return float(r.mean() / downside * math.sqrt(252))


def test_metric_keys_are_the_documented_order() -> None:
    assert METRIC_KEYS == (
        "finalEquity",
        "totalReturn",
        "cagr",
        "sharpe",
        "sortino",
        "maxDrawdown",
        "winRate",
        "trades",
        "profitFactor",
        "exposure",
    )


def test_flat_series_without_trades() -> None:
    bars = make_bars([10.0] * 6, [10.0] * 6)
    m = backtest_signals(bars, np.zeros(6, dtype=np.int8), BacktestOptions()).metrics
    assert m["finalEquity"] == 10_000.0
    assert m["totalReturn"] == 0.0
    assert m["cagr"] == 0.0
    assert m["maxDrawdown"] == 0.0
    assert m["trades"] == 0
    assert m["exposure"] == 0.0
    # zero volatility, no trades: undefined ratios are NaN
    for key in ("sharpe", "sortino", "winRate", "profitFactor"):
        assert math.isnan(m[key]), key


def test_zero_volatility_while_holding_gives_nan_ratios() -> None:
    bars = make_bars([10.0] * 6, [10.0] * 6)
    result = backtest_signals(bars, signals(6, {0: 1, 3: -1}), NO_COSTS)
    assert result.metrics["trades"] == 1
    assert result.metrics["finalEquity"] == 10_000.0
    assert math.isnan(result.metrics["sharpe"]) and math.isnan(result.metrics["sortino"])
    assert result.metrics["winRate"] == 0.0  # pnl 0 is not a win
    assert result.metrics["exposure"] == 4 / 6  # bars 1..4: entry bar through exit bar


def test_one_winning_trade_by_hand() -> None:
    # long signal at bar 0 -> filled at open[1] = 10; exit signal at bar 2 -> open[3] = 12
    bars = make_bars([10, 10, 11, 12, 12, 12], [10, 10.5, 11.5, 12.5, 12, 12])
    result = backtest_signals(bars, signals(6, {0: 1, 2: -1}), NO_COSTS)
    expected_equity = [10_000, 10_500, 11_500, 12_000, 12_000, 12_000]
    assert result.equity.tolist() == expected_equity
    m = result.metrics
    assert m["finalEquity"] == 12_000
    assert m["totalReturn"] == pytest.approx(0.2)
    assert m["cagr"] == pytest.approx(1.2 ** (365.25 / 5) - 1)
    assert m["sharpe"] == pytest.approx(sharpe_of(np.array(expected_equity, float)), rel=1e-12)
    assert math.isnan(m["sortino"])  # no down day
    assert m["maxDrawdown"] == 0.0
    assert (m["trades"], m["winRate"], m["exposure"]) == (1, 1.0, 3 / 6)
    assert math.isnan(m["profitFactor"])  # no losing trade
    (trade,) = result.trades
    assert trade == {
        "entryDate": "2020-01-02",
        "exitDate": "2020-01-04",
        "direction": "long",
        "size": 1000.0,
        "entryPrice": 10.0,
        "exitPrice": 12.0,
        "pnl": 2000.0,
        "returnPct": pytest.approx(0.2),
    }
    assert result.open_position is None


def test_commission_is_charged_on_both_sides() -> None:
    bars = make_bars([10, 10, 11, 12, 12, 12], [10, 10.5, 11.5, 12.5, 12, 12])
    result = backtest_signals(bars, signals(6, {0: 1, 2: -1}), BacktestOptions(commission=0.01))
    units = 10_000 / (10 * 1.01)
    entry_fee = units * 10 * 0.01
    exit_fee = units * 12 * 0.01
    assert result.trades[0]["size"] == pytest.approx(units)
    assert result.equity[1] == pytest.approx(10_000 - entry_fee + units * 0.5)
    assert result.metrics["finalEquity"] == pytest.approx(10_000 + units * 2 - entry_fee - exit_fee)
    assert result.trades[0]["pnl"] == pytest.approx(units * 2 - entry_fee - exit_fee)


def test_loss_only_series() -> None:
    # two long trades in a falling market: 10 -> 9 and 8 -> 6
    opens = [10, 10, 9.5, 9, 8.5, 8, 7, 6, 6]
    closes = [10, 9.8, 9.2, 8.8, 8.2, 7.5, 6.5, 6, 6]
    bars = make_bars(opens, closes)
    result = backtest_signals(bars, signals(9, {0: 1, 2: -1, 4: 1, 6: -1}), NO_COSTS)
    m = result.metrics
    assert m["trades"] == 2
    assert m["winRate"] == 0.0
    assert m["profitFactor"] == 0.0  # no profit over a positive loss
    first_units, after_first = 1000.0, 10_000 - 1000.0  # bought at 10, sold at 9
    second_units = after_first / 8
    assert [t["pnl"] for t in result.trades] == pytest.approx([-1000.0, second_units * -2])
    final = after_first - second_units * 2
    assert m["finalEquity"] == pytest.approx(final)
    assert m["maxDrawdown"] == pytest.approx(1 - final / 10_000)
    equity = result.equity
    assert m["sortino"] == pytest.approx(sortino_of(equity), rel=1e-12)
    assert m["sharpe"] == pytest.approx(sharpe_of(equity), rel=1e-12)
    assert m["sharpe"] < 0 and m["sortino"] < 0
    assert first_units == result.trades[0]["size"]


def test_drawdown_is_a_positive_fraction_of_the_running_peak() -> None:
    bars = make_bars([10, 10, 12, 9, 13, 13], [10, 12, 9, 13, 13, 13])
    result = backtest_signals(bars, signals(6, {0: 1}), NO_COSTS)
    # equity 10000, 12000, 9000, 13000, 13000, 13000 (held to the end)
    assert result.equity.tolist() == [10_000, 12_000, 9_000, 13_000, 13_000, 13_000]
    assert result.metrics["maxDrawdown"] == pytest.approx(0.25)
    assert result.metrics["trades"] == 0  # still open: not a closed trade
    assert result.metrics["exposure"] == 5 / 6
    assert result.open_position is not None
    assert result.open_position["exitPrice"] == 13.0
    assert result.open_position["pnl"] == pytest.approx(3000.0)


def test_short_trade_profits_from_a_fall() -> None:
    bars = make_bars([10, 10, 9, 8, 8], [10, 9.5, 8.5, 8, 8])
    options = BacktestOptions(commission=0.0, direction="long_short")
    result = backtest_signals(bars, signals(5, {0: -1, 2: 1}), options)
    (short,) = result.trades  # the reversal at bar 3 opens a long that is still open
    assert short["direction"] == "short" and short["exitPrice"] == 8.0
    assert short["pnl"] == pytest.approx(1000 * 2.0)
    assert result.open_position is not None and result.open_position["direction"] == "long"
    assert result.open_position["entryDate"] == "2020-01-04"


def test_long_only_ignores_exit_signals_when_flat() -> None:
    bars = make_bars([10, 10, 9, 8, 8], [10, 9.5, 8.5, 8, 8])
    result = backtest_signals(bars, signals(5, {0: -1, 2: -1}), NO_COSTS)
    assert result.metrics["trades"] == 0 and result.metrics["finalEquity"] == 10_000


def test_whole_units_floor_like_backtesting_py() -> None:
    bars = make_bars([30.0] * 4, [30.0] * 4)
    result = backtest_signals(bars, signals(4, {0: 1, 2: -1}), BacktestOptions(sizing="whole"))
    # 10000 * (1 - eps) // (30 + 30 * 0.002) = 332 units
    assert result.trades[0]["size"] == 332.0


def test_slippage_worsens_both_fills() -> None:
    bars = make_bars([10, 10, 11, 12, 12, 12], [10, 10.5, 11.5, 12.5, 12, 12])
    options = BacktestOptions(commission=0.0, slippage=0.01)
    (trade,) = backtest_signals(bars, signals(6, {0: 1, 2: -1}), options).trades
    assert trade["entryPrice"] == pytest.approx(10.1)
    assert trade["exitPrice"] == pytest.approx(11.88)

"""Agreement with backtesting.py 0.6.6 (a test-only oracle) on real bars.

Each oracle strategy uses the SPEC's strict definitions (backtesting.py's ``crossover`` is
exactly ``a[-2] < b[-2] and a[-1] > b[-1]``). Indicators in the oracles are written
independently of ours (pandas rolling, a pure-Python TA-Lib-style RSI).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as BtStrategy
from backtesting.lib import crossover
from backtesting.test import GOOG as BT_GOOG
from backtesting.test import SMA

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid, run_single
from tests.unit.domain.factories import bars_frame

LONG_SHORT_WHOLE = BacktestOptions(direction="long_short", sizing="whole")
LONG_WHOLE = BacktestOptions(direction="long", sizing="whole")


class CanonicalSmaCross(BtStrategy):
    """backtesting.py's canonical example, verbatim."""

    n1 = 10
    n2 = 20

    def init(self):
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def reference_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's RSI loop, transcribed in plain Python."""
    out = np.full(len(close), np.nan)
    gain = loss = 0.0
    for i in range(1, period + 1):
        d = float(close[i] - close[i - 1])
        if d < 0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    out[period] = 0.0 if abs(gain + loss) < 1e-8 else 100.0 * (gain / (gain + loss))
    for i in range(period + 1, len(close)):
        d = float(close[i] - close[i - 1])
        gain *= period - 1
        loss *= period - 1
        if d < 0:
            loss -= d
        else:
            gain += d
        gain /= period
        loss /= period
        out[i] = 0.0 if abs(gain + loss) < 1e-8 else 100.0 * (gain / (gain + loss))
    return out


class OracleRsi(BtStrategy):
    period = 14
    lower = 30.0
    upper = 70.0

    def init(self):
        self.rsi = self.I(reference_rsi, np.asarray(self.data.Close), self.period)

    def next(self):
        r = self.rsi
        if not self.position and r[-2] > self.lower and r[-1] < self.lower:
            self.buy()
        elif self.position and r[-2] < self.upper and r[-1] > self.upper:
            self.position.close()


class OracleBollinger(BtStrategy):
    period = 20
    k = 2.0

    def init(self):
        close = pd.Series(np.asarray(self.data.Close))
        mid = close.rolling(self.period).mean()
        upper = mid + self.k * close.rolling(self.period).std(ddof=0)
        self.mid = self.I(lambda: mid.to_numpy())
        self.upper = self.I(lambda: upper.to_numpy())

    def next(self):
        if not self.position and crossover(self.data.Close, self.upper):
            self.buy()
        elif self.position and crossover(self.mid, self.data.Close):
            self.position.close()


class OracleDonchian(BtStrategy):
    """Plain arrays (no ``self.I``) so backtesting.py does not skip warm-up bars; trading
    starts once both channels exist, as our strategy defines it."""

    entry = 20
    exit = 10

    def init(self):
        self.hh = pd.Series(np.asarray(self.data.High)).rolling(self.entry).max().shift(1)
        self.ll = pd.Series(np.asarray(self.data.Low)).rolling(self.exit).min().shift(1)
        self.hh, self.ll = self.hh.to_numpy(), self.ll.to_numpy()

    def next(self):
        i = len(self.data.Close) - 1
        if i < max(self.entry, self.exit):
            return
        close = self.data.Close[-1]
        if not self.position and close > self.hh[i]:
            self.buy()
        elif self.position and close < self.ll[i]:
            self.position.close()


def run_oracle(frame: pd.DataFrame, strategy: type[BtStrategy], **params) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Backtest(frame, strategy, commission=0.002, cash=10_000).run(**params)


def assert_agrees(bars: Bars, oracle: pd.Series, ours: dict, single) -> None:
    """Same trades (count, entry/exit bars, sizes) and final equity, plus the metrics that
    share backtesting.py's definition."""
    final = oracle["Equity Final [$]"]
    assert math.isclose(ours["finalEquity"], final, rel_tol=1e-6, abs_tol=1e-9)
    assert ours["trades"] == oracle["# Trades"]
    trades = oracle["_trades"]
    index = {d: i for i, d in enumerate(np.datetime_as_string(bars.dates, unit="D").tolist())}
    got = [(index[t["entryDate"]], index[t["exitDate"]]) for t in single.trades]
    assert got == list(zip(trades["EntryBar"].tolist(), trades["ExitBar"].tolist(), strict=True))
    sizes = [t["size"] if t["direction"] == "long" else -t["size"] for t in single.trades]
    assert sizes == trades["Size"].astype(float).tolist()
    assert np.allclose([t["pnl"] for t in single.trades], trades["PnL"], rtol=1e-9, atol=1e-6)
    assert math.isclose(ours["cagr"] * 100, oracle["CAGR [%]"], rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(
        ours["maxDrawdown"] * 100, -oracle["Max. Drawdown [%]"], rel_tol=1e-9, abs_tol=1e-9
    )
    if ours["trades"]:
        assert math.isclose(ours["winRate"] * 100, oracle["Win Rate [%]"], rel_tol=1e-12)
    assert np.allclose(single.equity, oracle["_equity_curve"]["Equity"], rtol=1e-9)


def _grid_and_single(bars: Bars, strategy: str, params: dict[str, np.ndarray], options):
    grid = evaluate_grid(bars, strategy, params, options)
    n = len(next(iter(params.values())))
    for j in range(n):
        combo = {k: v[j].item() for k, v in params.items()}
        yield (
            combo,
            {k: v[j].item() for k, v in grid.items()},
            run_single(bars, strategy, combo, options),
        )


SMA_PAIRS = [(f, s) for f in (2, 5, 8, 10, 13, 21, 34) for s in (10, 20, 30, 55, 89) if f < s]


@pytest.mark.parametrize("source", ["bundled", "backtesting.test"])
def test_canonical_sma_cross_matches_backtesting_py(goog: Bars, source: str) -> None:
    if source == "bundled":
        bars, frame = goog, bars_frame(goog)
    else:
        frame = BT_GOOG
        bars = Bars(
            dates=frame.index.to_numpy().astype("datetime64[D]"),
            open=frame["Open"].to_numpy(float),
            high=frame["High"].to_numpy(float),
            low=frame["Low"].to_numpy(float),
            close=frame["Close"].to_numpy(float),
            volume=frame["Volume"].to_numpy(float),
        )
    assert len(SMA_PAIRS) >= 20
    params = {
        "fast": np.array([p[0] for p in SMA_PAIRS]),
        "slow": np.array([p[1] for p in SMA_PAIRS]),
    }
    for combo, ours, single in _grid_and_single(bars, "sma_cross", params, LONG_SHORT_WHOLE):
        oracle = run_oracle(frame, CanonicalSmaCross, n1=combo["fast"], n2=combo["slow"])
        assert_agrees(bars, oracle, ours, single)


def test_rsi_reversion_matches_oracle(goog: Bars) -> None:
    combos = [
        (p, lo, up)
        for p in (2, 5, 9, 14, 21)
        for lo, up in ((30, 70), (25, 60), (40, 55), (20.5, 80))
    ]
    params = {
        "period": np.array([c[0] for c in combos]),
        "lower": np.array([c[1] for c in combos], dtype=float),
        "upper": np.array([c[2] for c in combos], dtype=float),
    }
    frame = bars_frame(goog)
    traded = 0
    for combo, ours, single in _grid_and_single(goog, "rsi_reversion", params, LONG_WHOLE):
        oracle = run_oracle(frame, OracleRsi, **combo)
        assert_agrees(goog, oracle, ours, single)
        traded += ours["trades"] > 0
    assert traded >= 15


def test_bollinger_breakout_matches_oracle(goog: Bars) -> None:
    combos = [(p, k) for p in (5, 10, 20, 50, 100) for k in (0.5, 1.0, 1.5, 2.0, 3.0)]
    params = {"period": np.array([c[0] for c in combos]), "k": np.array([c[1] for c in combos])}
    frame = bars_frame(goog)
    traded = 0
    for combo, ours, single in _grid_and_single(goog, "bollinger_breakout", params, LONG_WHOLE):
        oracle = run_oracle(frame, OracleBollinger, **combo)
        assert_agrees(goog, oracle, ours, single)
        traded += ours["trades"] > 0
    assert traded >= 15


def test_donchian_breakout_matches_oracle(goog: Bars) -> None:
    combos = [(e, x) for e in (5, 10, 20, 55, 120) for x in (3, 10, 20, 60)]
    params = {"entry": np.array([c[0] for c in combos]), "exit": np.array([c[1] for c in combos])}
    frame = bars_frame(goog)
    for combo, ours, single in _grid_and_single(goog, "donchian_breakout", params, LONG_WHOLE):
        oracle = run_oracle(frame, OracleDonchian, **combo)
        assert_agrees(goog, oracle, ours, single)
        assert ours["trades"] > 0

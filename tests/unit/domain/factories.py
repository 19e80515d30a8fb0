"""Factories for hand-made bars and the backtesting.py frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer_app.domain.datasets import Bars


def make_bars(
    open_: list[float] | np.ndarray,
    close: list[float] | np.ndarray,
    *,
    start: str = "2020-01-01",
    high: list[float] | np.ndarray | None = None,
    low: list[float] | np.ndarray | None = None,
) -> Bars:
    """Small hand-made daily bars (consecutive calendar days)."""
    o = np.asarray(open_, dtype=np.float64)
    c = np.asarray(close, dtype=np.float64)
    h = np.maximum(o, c) if high is None else np.asarray(high, dtype=np.float64)
    lo = np.minimum(o, c) if low is None else np.asarray(low, dtype=np.float64)
    dates = np.datetime64(start, "D") + np.arange(len(c))
    return Bars(dates=dates, open=o, high=h, low=lo, close=c, volume=np.zeros(len(c)))


def bars_frame(bars: Bars) -> pd.DataFrame:
    """The bars as backtesting.py wants them."""
    return pd.DataFrame(
        {
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume,
        },
        index=pd.DatetimeIndex(bars.dates.astype("datetime64[ns]")),
    )


def random_walk_bars(n: int, seed: int) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    return make_bars(open_, close, high=high, low=low)

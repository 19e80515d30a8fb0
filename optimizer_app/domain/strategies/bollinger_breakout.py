"""Bollinger breakout: long when the close crosses above SMA + k·std; exit below the SMA."""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer_app.domain import indicators
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.strategies.base import ParamSpec, SignalFiller, Strategy


@njit(cache=True)
def _fill(
    close: np.ndarray,
    mid: np.ndarray,
    std: np.ndarray,
    rows: np.ndarray,
    k: np.ndarray,
    start: int,
    stop: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - jitted
    n = close.shape[0]
    for j in range(start, stop):
        m = mid[rows[j]]
        s = std[rows[j]]
        kj = k[j]
        row = out[j - start]
        row[0] = 0
        upper_prev = m[0] + kj * s[0]
        for t in range(1, n):
            upper = m[t] + kj * s[t]
            enter = (close[t - 1] < upper_prev) & (close[t] > upper)
            leave = (close[t - 1] > m[t - 1]) & (close[t] < m[t])
            row[t] = np.int8(enter) - np.int8(leave)
            upper_prev = upper


class BollingerBreakout(Strategy):
    name = "bollinger_breakout"
    label = "Bollinger breakout"
    description = (
        "Bands are SMA(close, period) ± k × rolling standard deviation (ddof 0). Go long when "
        "the close crosses above the upper band; leave (or, long/short, go short) when it "
        "crosses below the middle band."
    )
    params = (
        ParamSpec("period", "int", 5, 200, 20, "Period", "Bars in the moving average and std"),
        ParamSpec("k", "float", 0.5, 4.0, 2.0, "Width k", "Standard deviations to the upper band"),
    )

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        mid, rows = indicators.table(bars, indicators.sma, params["period"])
        std, _ = indicators.table(bars, indicators.rolling_std, params["period"])
        k = np.ascontiguousarray(params["k"], dtype=np.float64)

        def fill(start: int, stop: int, out: np.ndarray) -> None:
            _fill(bars.close, mid, std, rows, k, start, stop, out)

        return fill


STRATEGY = BollingerBreakout()

"""Donchian breakout: long above the prior ``entry``-bar high; exit below the prior ``exit``-bar low."""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer_app.domain import indicators
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.strategies.base import ParamSpec, SignalFiller, Strategy


@njit(cache=True)
def _fill(
    close: np.ndarray,
    highs: np.ndarray,
    high_rows: np.ndarray,
    lows: np.ndarray,
    low_rows: np.ndarray,
    warmup: np.ndarray,
    start: int,
    stop: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - jitted
    n = close.shape[0]
    for j in range(start, stop):
        hh = highs[high_rows[j]]
        ll = lows[low_rows[j]]
        row = out[j - start]
        ready = min(warmup[j], n)
        row[:ready] = 0
        for t in range(ready, n):
            row[t] = np.int8(close[t] > hh[t]) - np.int8(close[t] < ll[t])


class DonchianBreakout(Strategy):
    name = "donchian_breakout"
    label = "Donchian breakout"
    description = (
        "Go long when the close exceeds the highest high of the previous `entry` bars; leave "
        "(or, long/short, go short) when it falls below the lowest low of the previous `exit` bars. "
        "Trading starts once both channels exist (bar max(entry, exit))."
    )
    params = (
        ParamSpec("entry", "int", 2, 200, 20, "Entry channel", "Bars of highs to break out above"),
        ParamSpec("exit", "int", 2, 200, 10, "Exit channel", "Bars of lows to fall below"),
    )

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        highs, high_rows = indicators.table(bars, indicators.highest_high_before, params["entry"])
        lows, low_rows = indicators.table(bars, indicators.lowest_low_before, params["exit"])
        warmup = np.maximum(params["entry"], params["exit"]).astype(np.int64)

        def fill(start: int, stop: int, out: np.ndarray) -> None:
            _fill(bars.close, highs, high_rows, lows, low_rows, warmup, start, stop, out)

        return fill


STRATEGY = DonchianBreakout()

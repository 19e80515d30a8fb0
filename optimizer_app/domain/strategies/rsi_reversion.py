"""RSI mean reversion: long when RSI crosses below ``lower``; exit when it crosses above ``upper``."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain import indicators
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.strategies._signals import fill_level_cross
from optimizer_app.domain.strategies.base import ParamSpec, SignalFiller, Strategy


class RsiReversion(Strategy):
    name = "rsi_reversion"
    label = "RSI mean reversion"
    description = (
        "RSI with Wilder's smoothing (seeded like TA-Lib). Go long when it crosses below "
        "the lower level; leave (or, long/short, go short) when it crosses above the upper level."
    )
    params = (
        ParamSpec("period", "int", 2, 100, 14, "RSI period", "Bars in Wilder's smoothing"),
        ParamSpec("lower", "float", 1, 50, 30, "Lower level", "Buy when RSI crosses below this"),
        ParamSpec("upper", "float", 50, 99, 70, "Upper level", "Exit when RSI crosses above this"),
    )
    constraint_text = "lower < upper"
    constraint_params = ("lower", "upper")

    def allowed(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(columns["lower"] < columns["upper"])

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        lines, rows = indicators.table(bars, indicators.rsi, params["period"])
        lower = np.ascontiguousarray(params["lower"], dtype=np.float64)
        upper = np.ascontiguousarray(params["upper"], dtype=np.float64)

        def fill(start: int, stop: int, out: np.ndarray) -> None:
            fill_level_cross(lines, rows, lower, upper, start, stop, out)

        return fill


STRATEGY = RsiReversion()

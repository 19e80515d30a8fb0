"""SMA crossover: long when SMA(fast) crosses above SMA(slow); exit (or short) on the cross below."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain import indicators
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.strategies._signals import fill_series_cross
from optimizer_app.domain.strategies.base import ParamSpec, SignalFiller, Strategy


class SmaCross(Strategy):
    name = "sma_cross"
    label = "SMA crossover"
    description = (
        "Go long when the fast simple moving average of the close crosses above the slow one; "
        "leave (or, long/short, go short) when it crosses below."
    )
    params = (
        ParamSpec("fast", "int", 2, 200, 10, "Fast SMA", "Bars in the fast moving average"),
        ParamSpec("slow", "int", 3, 400, 20, "Slow SMA", "Bars in the slow moving average"),
    )
    constraint_text = "fast < slow"
    constraint_params = ("fast", "slow")

    def allowed(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(columns["fast"] < columns["slow"])

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        fast, slow = params["fast"], params["slow"]
        lines, rows = indicators.table(bars, indicators.sma, np.concatenate([fast, slow]))
        fast_rows, slow_rows = rows[: len(fast)], rows[len(fast) :]

        def fill(start: int, stop: int, out: np.ndarray) -> None:
            fill_series_cross(lines, fast_rows, lines, slow_rows, start, stop, out)

        return fill


STRATEGY = SmaCross()

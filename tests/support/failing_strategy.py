"""A test strategy whose combinations fail for real, registered by ``register()`` (tests, for
their own duration, and the fault-injection chunk functions, on the Dask workers):
SMA crossover, except that ``fast == RAISING_FAST`` raises in the strategy code and
``fast == HUNGRY_FAST`` asks for more memory than any machine has."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.strategies.base import SignalFiller
from optimizer_app.domain.strategies.registry import STRATEGIES
from optimizer_app.domain.strategies.sma_cross import SmaCross

NAME = "failing_sma"
RAISING_FAST = 15
HUNGRY_FAST = 25


class FailingSma(SmaCross):
    name = NAME
    label = "SMA crossover that fails for some parameters"

    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        fast = params["fast"]
        if np.any(fast == RAISING_FAST):
            raise ValueError(f"the strategy cannot handle fast={RAISING_FAST}")
        if np.any(fast == HUNGRY_FAST):
            np.empty(1 << 60, dtype=np.uint8)  # a real MemoryError
        return super().prepare(bars, params)


def register() -> None:
    STRATEGIES.setdefault(NAME, FailingSma())


def unregister() -> None:
    STRATEGIES.pop(NAME, None)

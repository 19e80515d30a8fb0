"""The strategy registry: adding a strategy is one module (ending in ``STRATEGY = MyStrategy()``)
plus one line in ``MODULES``."""

from __future__ import annotations

from importlib import import_module

from optimizer_app.domain.strategies.base import Strategy

MODULES = (
    "sma_cross",
    "rsi_reversion",
    "bollinger_breakout",
    "donchian_breakout",
)


def _load(module: str) -> Strategy:
    strategy = import_module(f"{__package__}.{module}").STRATEGY
    if not isinstance(strategy, Strategy):
        raise TypeError(f"{module}.STRATEGY must be a Strategy instance")
    return strategy


STRATEGIES: dict[str, Strategy] = {s.name: s for s in map(_load, MODULES)}


class UnknownStrategyError(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        self.message = f"unknown strategy {name!r}; valid names: {', '.join(sorted(STRATEGIES))}"
        super().__init__(self.message)


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise UnknownStrategyError(str(name)) from None

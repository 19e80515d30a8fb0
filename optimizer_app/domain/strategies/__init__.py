"""Trading strategies: one small module each, listed in :mod:`registry`."""

from optimizer_app.domain.strategies.base import ParamSpec, SignalFiller, Strategy
from optimizer_app.domain.strategies.registry import (
    STRATEGIES,
    UnknownStrategyError,
    get_strategy,
)

__all__ = [
    "STRATEGIES",
    "ParamSpec",
    "SignalFiller",
    "Strategy",
    "UnknownStrategyError",
    "get_strategy",
]

"""The strategy registry: adding a strategy is one module plus one line here."""

from __future__ import annotations

from optimizer_app.domain.strategies.base import Strategy
from optimizer_app.domain.strategies.bollinger_breakout import BollingerBreakout
from optimizer_app.domain.strategies.donchian_breakout import DonchianBreakout
from optimizer_app.domain.strategies.rsi_reversion import RsiReversion
from optimizer_app.domain.strategies.sma_cross import SmaCross

STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        SmaCross(),
        RsiReversion(),
        BollingerBreakout(),
        DonchianBreakout(),
    )
}


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

"""The strategies a job can use, with their declared parameters and constraint."""

from __future__ import annotations

from optimizer_app.domain.engine import METRIC_KEYS
from optimizer_app.domain.strategies.base import ParamSpec, Strategy
from optimizer_app.domain.strategies.registry import STRATEGIES
from optimizer_app.services.schemas import (
    StrategiesPublic,
    StrategyParamPublic,
    StrategyPublic,
)


def _number(spec: ParamSpec, value: float) -> int | float:
    return int(value) if spec.type == "int" else float(value)


def _param(spec: ParamSpec) -> StrategyParamPublic:
    return StrategyParamPublic(
        name=spec.name,
        type=spec.type,
        min=_number(spec, spec.min),
        max=_number(spec, spec.max),
        default=_number(spec, spec.default),
        label=spec.label,
        description=spec.description,
    )


def strategy_public(strategy: Strategy) -> StrategyPublic:
    return StrategyPublic(
        name=strategy.name,
        label=strategy.label,
        description=strategy.description,
        params=[_param(p) for p in strategy.params],
        constraint=strategy.constraint_text or None,
    )


def list_strategies() -> StrategiesPublic:
    data = [strategy_public(s) for s in STRATEGIES.values()]
    return StrategiesPublic(data=data, count=len(data), metric_keys=list(METRIC_KEYS))

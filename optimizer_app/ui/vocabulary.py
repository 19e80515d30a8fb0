"""What the UI calls things: metric names and formats, job statuses with their colours, the
sort direction of a mode."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from optimizer_app.domain.engine import METRIC_KEYS
from optimizer_app.ui import format as fmt


@dataclass(frozen=True)
class MetricInfo:
    key: str
    label: str
    short: str  # column headers
    show: Callable[[Any], str]
    default_mode: str  # "max" or "min": the direction that makes the metric better
    unit: str = "ratio"  # "percent" (a fraction shown ×100 with %), "money", "count" or "ratio"


def _ratio(value: Any) -> str:
    return fmt.decimal(value, 2)


def _money(value: Any) -> str:
    return fmt.decimal(value, 2)


def _pct(value: Any) -> str:
    return fmt.percent(value, 2)


METRICS: dict[str, MetricInfo] = {
    info.key: info
    for info in (
        MetricInfo("sharpe", "Sharpe ratio", "Sharpe", _ratio, "max"),
        MetricInfo("totalReturn", "Total return", "Return", _pct, "max", "percent"),
        MetricInfo("cagr", "Annual growth (CAGR)", "CAGR", _pct, "max", "percent"),
        MetricInfo("sortino", "Sortino ratio", "Sortino", _ratio, "max"),
        MetricInfo("maxDrawdown", "Max drawdown", "Max DD", _pct, "min", "percent"),
        MetricInfo("winRate", "Win rate", "Win rate", _pct, "max", "percent"),
        MetricInfo("profitFactor", "Profit factor", "Profit factor", _ratio, "max"),
        MetricInfo("finalEquity", "Final equity", "Final equity", _money, "max", "money"),
        MetricInfo("trades", "Number of trades", "Trades", fmt.count, "max", "count"),
        MetricInfo("exposure", "Exposure (time in market)", "Exposure", _pct, "max", "percent"),
    )
    if info.key in METRIC_KEYS
}
DEFAULT_METRIC = "sharpe"


def metric_label(key: str) -> str:
    info = METRICS.get(key)
    return info.label if info else key


def show_metric(key: str, value: Any) -> str:
    info = METRICS.get(key)
    return info.show(value) if info else fmt.decimal(value, 4)


BASE_PLACES = 2  # decimals of a ratio, money or percent value in the tables
MAX_PLACES = 12


def metric_unit(key: str) -> str:
    info = METRICS.get(key)
    return info.unit if info else "ratio"


def _scaled(key: str, value: Any) -> float | None:
    number = fmt.finite(value)
    if number is None:
        return None
    return number * 100 if metric_unit(key) == "percent" else number


def places_to_tell_apart(key: str, values: Iterable[Any]) -> int:
    """The fewest decimals (at least the table's usual ones) at which different values of a
    metric read differently; equal values always read the same (a true tie)."""
    if metric_unit(key) == "count":
        return 0
    distinct = sorted({v for v in (_scaled(key, raw) for raw in values) if v is not None})
    for places in range(BASE_PLACES, MAX_PLACES + 1):
        texts = {f"{v:.{places}f}" for v in distinct}
        if len(texts) == len(distinct):
            return places
    return MAX_PLACES


def show_score(key: str, value: Any, places: int) -> str:
    """A metric's value in its unit with ``places`` decimals (``places_to_tell_apart``)."""
    unit = metric_unit(key)
    if unit == "count":
        return fmt.count(value)
    if unit == "percent":
        return fmt.percent(value, places)
    return fmt.decimal(value, places)


def chart_value(key: str, value: Any, places: int = 4) -> float | None:
    """A metric's value as charts plot it, in the unit the tables show (percent metrics ×100),
    rounded for tooltips."""
    scaled = _scaled(key, value)
    return None if scaled is None else round(scaled, places)


def chart_unit(key: str) -> str:
    """The suffix charts put after a metric's values: "%" for percent metrics."""
    return "%" if metric_unit(key) == "percent" else ""


def is_percent(key: str) -> bool:
    """Whether the metric is shown as a percentage (charts scale it to match the table)."""
    info = METRICS.get(key)
    return info is not None and info.show is _pct


def default_mode(metric: str) -> str:
    info = METRICS.get(metric)
    return info.default_mode if info else "max"


_OP_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def constraints_text(constraints: list[dict[str, Any]]) -> str:
    """``Number of trades ≥ 10 and Max drawdown ≤ 30.00%`` (each value in its metric's unit);
    empty without constraints."""
    return " and ".join(
        f"{metric_label(str(c.get('metric')))} {_OP_SYMBOLS.get(str(c.get('op')), c.get('op'))} "
        f"{show_metric(str(c.get('metric')), c.get('value'))}"
        for c in constraints
    )


def direction_text(mode: str) -> str:
    return "lower is better" if mode == "min" else "higher is better"


MODE_LABELS = {"max": "Maximize", "min": "Minimize"}


@dataclass(frozen=True)
class StatusStyle:
    label: str
    color: str  # a Radix colour scheme
    icon: str


STATUSES: dict[str, StatusStyle] = {
    "queued": StatusStyle("Queued", "gray", "clock"),
    "running": StatusStyle("Running", "blue", "loader"),
    "succeeded": StatusStyle("Succeeded", "green", "circle-check"),
    "failed": StatusStyle("Failed", "red", "circle-x"),
    "early-stopped": StatusStyle("Stopped early", "amber", "octagon-pause"),
    "canceled": StatusStyle("Canceled", "orange", "ban"),
}
LIVE = frozenset({"queued", "running"})


def status_label(status: str) -> str:
    style = STATUSES.get(status)
    return style.label if style else status.replace("-", " ").capitalize()


def is_live(status: str) -> bool:
    return status in LIVE


DIRECTIONS = {"long": "Long only", "long_short": "Long and short"}
SIZINGS = {"fractional": "Fractional units", "whole": "Whole units"}


@dataclass(frozen=True)
class FailureStyle:
    label: str
    meaning: str
    color: str  # a Radix colour scheme


# Failure categories (domain.failures), most actionable first.
FAILURES: dict[str, FailureStyle] = {
    "data": FailureStyle("Data", "no valid prices in the bars", "amber"),
    "strategy": FailureStyle("Strategy error", "the strategy raised an error", "red"),
    "resource": FailureStyle("Out of memory or disk", "a worker ran out of memory or disk",
                             "orange"),
    "lost": FailureStyle("Worker crashed", "the chunk took its worker down every time",
                         "crimson"),
    "timeout": FailureStyle("Timed out", "the chunk ran past the time limit", "purple"),
}


def failure_label(category: str | None) -> str:
    style = FAILURES.get(category or "")
    return style.label if style else (category or "Unknown").capitalize()

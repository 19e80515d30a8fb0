"""What the UI calls things: metric names and formats, job statuses with their colours, the
sort direction of a mode."""

from __future__ import annotations

from collections.abc import Callable
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
        MetricInfo("totalReturn", "Total return", "Return", _pct, "max"),
        MetricInfo("cagr", "Annual growth (CAGR)", "CAGR", _pct, "max"),
        MetricInfo("sortino", "Sortino ratio", "Sortino", _ratio, "max"),
        MetricInfo("maxDrawdown", "Max drawdown", "Max DD", _pct, "min"),
        MetricInfo("winRate", "Win rate", "Win rate", _pct, "max"),
        MetricInfo("profitFactor", "Profit factor", "Profit factor", _ratio, "max"),
        MetricInfo("finalEquity", "Final equity", "Final equity", _money, "max"),
        MetricInfo("trades", "Number of trades", "Trades", fmt.count, "max"),
        MetricInfo("exposure", "Exposure (time in market)", "Exposure", _pct, "max"),
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

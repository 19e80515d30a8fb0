"""Backtest engine: options, the vectorized grid evaluation and the single detailed run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from optimizer_app.domain._simulate import TRADE_FIELDS, run_one, simulate_block
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.stats import (
    INTEGER_METRICS,
    METRIC_KEYS,
    N_ACCUMULATORS,
    finalize,
    metrics_dict,
    years_between,
)
from optimizer_app.domain.strategies import Strategy, get_strategy

__all__ = [
    "METRIC_KEYS",
    "BacktestOptions",
    "SingleResult",
    "backtest_signals",
    "equity_csv",
    "evaluate_grid",
    "run_single",
    "trades_csv",
]

BLOCK = 128  # combinations whose signals are held at once (int8, fits in L2 cache)


class BacktestOptions(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    initial_cash: float = Field(10_000.0, gt=0, allow_inf_nan=False)
    commission: float = Field(0.002, ge=0, le=0.1)
    slippage: float = Field(0.0, ge=0, le=0.1)
    direction: Literal["long", "long_short"] = "long"
    sizing: Literal["fractional", "whole"] = "fractional"


@dataclass
class SingleResult:
    metrics: dict[str, float | int]
    equity: np.ndarray
    trades: list[dict[str, Any]]
    open_position: dict[str, Any] | None = None
    """The position still held at the last bar, marked at its close (``exitDate`` is the
    last bar); it is in ``finalEquity`` but not in the trade statistics."""


def _columns(strategy: Strategy, params: dict[str, Any]) -> tuple[dict[str, np.ndarray], int]:
    names = set(strategy.param_names)
    if set(params) != names:
        missing = sorted(names - set(params))
        unknown = sorted(set(params) - names)
        raise ValueError(
            f"{strategy.name} takes parameters {', '.join(strategy.param_names)}"
            f" (missing: {missing or 'none'}, unknown: {unknown or 'none'})"
        )
    columns: dict[str, np.ndarray] = {}
    for spec in strategy.params:
        dtype = np.int64 if spec.type == "int" else np.float64
        columns[spec.name] = np.ascontiguousarray(np.atleast_1d(params[spec.name]), dtype=dtype)
    lengths = {len(c) for c in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"parameter columns differ in length: {sorted(lengths)}")
    return columns, lengths.pop()


def _sim_args(bars: Bars, options: BacktestOptions) -> tuple[Any, ...]:
    return (
        np.ascontiguousarray(bars.open, dtype=np.float64),
        np.ascontiguousarray(bars.close, dtype=np.float64),
        float(options.initial_cash),
        float(options.commission),
        float(options.slippage),
        options.direction == "long_short",
        options.sizing == "whole",
    )


def evaluate_grid(
    bars: Bars, strategy: str, params: dict[str, np.ndarray], options: BacktestOptions
) -> dict[str, np.ndarray]:
    """Every metric for ``n`` combinations (equal-length parameter columns), in input order."""
    strat = get_strategy(strategy)
    columns, n = _columns(strat, params)
    matrix = np.empty((len(METRIC_KEYS), n), dtype=np.float64)
    if n:
        fill = strat.prepare(bars, columns)
        args = _sim_args(bars, options)
        years = years_between(bars.dates)
        signals = np.empty((min(BLOCK, n), len(bars)), dtype=np.int8)
        for start in range(0, n, BLOCK):
            stop = min(start + BLOCK, n)
            block = signals[: stop - start]
            fill(start, stop, block)
            simulate_block(block, *args, years, matrix, start)  # type: ignore[call-arg]
    return metrics_dict(matrix)


def run_single(
    bars: Bars, strategy: str, params: dict[str, float | int], options: BacktestOptions
) -> SingleResult:
    """One combination with its equity curve and trade list (same numbers as the grid)."""
    strat = get_strategy(strategy)
    columns, n = _columns(strat, dict(params))
    if n != 1:
        raise ValueError("run_single takes one value per parameter")
    signals = np.empty((1, len(bars)), dtype=np.int8)
    strat.prepare(bars, columns)(0, 1, signals)
    return backtest_signals(bars, signals[0], options)


def backtest_signals(bars: Bars, signals: np.ndarray, options: BacktestOptions) -> SingleResult:
    """The engine alone: one row of signals (+1 long, -1 exit/short, 0 none; each filled at
    the next bar's open) -> metrics, equity curve and trades."""
    sig = np.ascontiguousarray(signals, dtype=np.int8)
    if sig.shape != (len(bars),):
        raise ValueError(f"signals must have shape ({len(bars)},), got {sig.shape}")
    equity = np.empty(len(bars), dtype=np.float64)
    trades = np.empty((len(bars) + 2, TRADE_FIELDS), dtype=np.float64)
    acc = np.zeros(N_ACCUMULATORS)
    args = _sim_args(bars, options)
    n_trades = run_one(sig, *args, True, equity, trades, acc)  # type: ignore[call-arg]
    matrix = np.empty((len(METRIC_KEYS), 1), dtype=np.float64)
    finalize(acc, args[2], len(bars), years_between(bars.dates), matrix, 0)
    metrics: dict[str, float | int] = {
        key: (int(matrix[i, 0]) if key in INTEGER_METRICS else float(matrix[i, 0]))
        for i, key in enumerate(METRIC_KEYS)
    }
    open_rows = _trade_dicts(bars, trades[n_trades : n_trades + 1]) if acc[10] else []
    return SingleResult(
        metrics=metrics,
        equity=equity,
        trades=_trade_dicts(bars, trades[:n_trades]),
        open_position=open_rows[0] if open_rows else None,
    )


def _iso(bars: Bars, bar: float) -> str:
    return str(bars.dates[int(bar)])


def _trade_dicts(bars: Bars, rows: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "entryDate": _iso(bars, r[0]),
            "exitDate": _iso(bars, r[1]),
            "direction": "long" if r[2] > 0 else "short",
            "size": float(abs(r[2])),
            "entryPrice": float(r[3]),
            "exitPrice": float(r[4]),
            "pnl": float(r[5]),
            "returnPct": float(r[6]),
        }
        for r in rows.tolist()
    ]


def equity_csv(bars: Bars, result: SingleResult) -> bytes:
    """``date,equity,drawdown`` (drawdown as a positive fraction of the running peak)."""
    equity = result.equity
    peak = np.maximum.accumulate(equity)
    with np.errstate(invalid="ignore", divide="ignore"):
        drawdown = np.where(peak > 0, 1.0 - equity / peak, 0.0)
    rows = zip(bars.date_texts, _float_texts(equity), _float_texts(drawdown), strict=True)
    return b"date,equity,drawdown\n" + b"".join([b"%s,%s,%s\n" % row for row in rows])


def _float_texts(values: np.ndarray) -> list[bytes]:
    """Each float in its shortest round-trip form (orjson's, ~2x faster than repr; repr's
    ``nan``/``inf`` for the non-finite values orjson would write as null)."""
    if not np.isfinite(values).all():
        return [repr(v).encode("ascii") for v in values.tolist()]
    array = np.ascontiguousarray(values, dtype=np.float64)
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")


TRADE_COLUMNS = (
    "entryDate",
    "exitDate",
    "direction",
    "size",
    "entryPrice",
    "exitPrice",
    "pnl",
    "returnPct",
)


def trades_csv(result: SingleResult) -> bytes:
    """Closed trades, then a last row with ``status=open`` if a position is still held."""
    lines = [",".join((*TRADE_COLUMNS, "status"))]
    for trade in result.trades:
        lines.append(",".join([*(_cell(trade[c]) for c in TRADE_COLUMNS), "closed"]))
    if result.open_position is not None:
        pos = result.open_position
        lines.append(",".join([*(_cell(pos.get(c)) for c in TRADE_COLUMNS), "open"]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)

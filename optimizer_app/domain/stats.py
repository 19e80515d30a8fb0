"""Performance metrics, computed from running sums so no equity curve has to be kept.

Definitions (``n`` bars, equity ``e`` valued at each bar's close, ``r[t] = e[t]/e[t-1] - 1``
for ``t = 1..n-1``, risk-free rate 0, 252 bars a year):

* ``finalEquity`` — ``e[n-1]``; a position still open is valued at the last close
  (no exit commission), as backtesting.py 0.6.x does by default.
* ``totalReturn`` — ``e[n-1] / initialCash - 1``.
* ``cagr`` — ``(e[n-1] / initialCash) ** (365.25 / days) - 1`` over the calendar days from
  the first to the last bar; ``-1`` if equity reached 0.
* ``sharpe`` — ``mean(r) / std(r, ddof=1) * sqrt(252)``.
* ``sortino`` — ``mean(r) / sqrt(sum(min(r, 0)**2) / (len(r) - 1)) * sqrt(252)``.
* ``maxDrawdown`` — ``max(1 - e[t] / max(e[:t+1]))``, a positive fraction.
* ``winRate`` — closed trades with ``pnl > 0`` (after both commissions) / closed trades.
* ``trades`` — closed trades (a position still open at the end is not counted).
* ``profitFactor`` — sum of winning pnl / -sum of losing pnl.
* ``exposure`` — fraction of bars during which a position was held, counting the entry
  bar through the exit bar of each trade (an open position through the last bar).

A ratio whose denominator is zero is undefined and reported as NaN (JSON ``null``): Sharpe
and Sortino at zero volatility / zero downside (e.g. a combination that never trades),
``winRate`` without closed trades, ``profitFactor`` without a losing trade.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

METRIC_KEYS: tuple[str, ...] = (
    "finalEquity",
    "totalReturn",
    "cagr",
    "sharpe",
    "sortino",
    "maxDrawdown",
    "winRate",
    "trades",
    "profitFactor",
    "exposure",
)
INTEGER_METRICS = frozenset({"trades"})


def known_metric(value: str) -> str:
    """``value`` if it names a metric; ValueError (with the choices) otherwise."""
    if value not in METRIC_KEYS:
        raise ValueError(f"unknown metric {value!r}; choose one of {', '.join(METRIC_KEYS)}")
    return value
PERIODS_PER_YEAR = 252.0
N_ACCUMULATORS = 11


@njit(cache=True)
def finalize(
    acc: np.ndarray, initial_cash: float, n_bars: int, years: float, out: np.ndarray, col: int
) -> None:  # pragma: no cover - jitted
    """Turn accumulators into the metric rows of ``out[:, col]`` (order of METRIC_KEYS).

    ``acc`` = final equity, sum r, sum r², sum min(r,0)², max drawdown, closed trades,
    winning trades, gross profit, gross loss (positive), exposure bars, open at the end (1/0).
    """
    final = acc[0]
    s1, s2, d2 = acc[1], acc[2], acc[3]
    trades, wins, gross_profit, gross_loss = acc[5], acc[6], acc[7], acc[8]
    nan = np.nan
    out[0, col] = final
    out[1, col] = final / initial_cash - 1.0
    if years <= 0.0:
        out[2, col] = nan
    elif final <= 0.0:
        out[2, col] = -1.0
    else:
        out[2, col] = (final / initial_cash) ** (1.0 / years) - 1.0
    m = n_bars - 1
    sharpe = nan
    sortino = nan
    if m >= 2:
        mean = s1 / m
        var = (s2 - s1 * mean) / (m - 1)
        if var > 0.0:
            sharpe = mean / math.sqrt(var) * math.sqrt(PERIODS_PER_YEAR)
        if d2 > 0.0:
            sortino = mean / math.sqrt(d2 / (m - 1)) * math.sqrt(PERIODS_PER_YEAR)
    out[3, col] = sharpe
    out[4, col] = sortino
    out[5, col] = acc[4]
    out[6, col] = wins / trades if trades > 0 else nan
    out[7, col] = trades
    out[8, col] = gross_profit / gross_loss if gross_loss > 0.0 else nan
    out[9, col] = acc[9] / n_bars


def years_between(dates: np.ndarray) -> float:
    """Calendar years from the first to the last bar (365.25-day years)."""
    if len(dates) < 2:
        return 0.0
    days = (dates[-1] - dates[0]).astype("timedelta64[D]").astype(np.int64)
    return float(days) / 365.25


def metrics_dict(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of a (len(METRIC_KEYS), n) matrix as named arrays; ``trades`` as int64."""
    result: dict[str, np.ndarray] = {}
    for i, key in enumerate(METRIC_KEYS):
        row = matrix[i]
        result[key] = row.astype(np.int64) if key in INTEGER_METRICS else row.copy()
    return result

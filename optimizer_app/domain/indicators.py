"""Reference indicator arithmetic, each distinct window computed once and cached.

Rolling means and standard deviations come from pandas' own rolling kernels so that
results are bit-for-bit those of ``Series.rolling(n).mean()`` / ``.std(ddof=0)``: at an
exact tie of two averages the last bit decides a cross, so one arithmetic is used
everywhere. The cache is keyed by the bars' content and the window.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

from optimizer_app.domain.datasets import Bars

_CACHE_BYTES = 128 * 2**20  # least recently used indicators are dropped beyond this
_cache: OrderedDict[tuple[str, str, int], np.ndarray] = OrderedDict()
_cached_bytes = 0
_lock = threading.Lock()


def _cached(bars: Bars, kind: str, window: int, compute: Callable[[], np.ndarray]) -> np.ndarray:
    key = (bars.fingerprint, kind, window)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    global _cached_bytes
    values = np.ascontiguousarray(compute(), dtype=np.float64)
    values.setflags(write=False)
    with _lock:
        if key not in _cache:
            _cache[key] = values
            _cached_bytes += values.nbytes
        while _cached_bytes > _CACHE_BYTES and len(_cache) > 1:
            _cached_bytes -= _cache.popitem(last=False)[1].nbytes
    return values


def sma(bars: Bars, window: int) -> np.ndarray:
    """``pd.Series(close).rolling(window).mean()``; NaN for the first ``window - 1`` bars."""
    return _cached(
        bars, "sma", window, lambda: pd.Series(bars.close).rolling(window).mean().to_numpy()
    )


def rolling_std(bars: Bars, window: int) -> np.ndarray:
    """``pd.Series(close).rolling(window).std(ddof=0)`` (population standard deviation)."""
    return _cached(
        bars,
        "std0",
        window,
        lambda: pd.Series(bars.close).rolling(window).std(ddof=0).to_numpy(),
    )


def highest_high_before(bars: Bars, window: int) -> np.ndarray:
    """Highest high of the ``window`` bars before each bar (excluding the bar itself)."""
    return _cached(
        bars,
        "hh_prev",
        window,
        lambda: pd.Series(bars.high).rolling(window).max().shift(1).to_numpy(),
    )


def lowest_low_before(bars: Bars, window: int) -> np.ndarray:
    """Lowest low of the ``window`` bars before each bar (excluding the bar itself)."""
    return _cached(
        bars,
        "ll_prev",
        window,
        lambda: pd.Series(bars.low).rolling(window).min().shift(1).to_numpy(),
    )


@njit(cache=True)
def _wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:  # pragma: no cover - jitted
    n = close.shape[0]
    out = np.full(n, np.nan)
    if period < 1 or n <= period:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        diff = close[i] - close[i - 1]
        if diff < 0.0:
            loss -= diff
        else:
            gain += diff
    gain /= period
    loss /= period
    out[period] = _rsi_value(gain, loss)
    for i in range(period + 1, n):
        diff = close[i] - close[i - 1]
        gain *= period - 1
        loss *= period - 1
        if diff < 0.0:
            loss -= diff
        else:
            gain += diff
        gain /= period
        loss /= period
        out[i] = _rsi_value(gain, loss)
    return out


@njit(cache=True, inline="always")
def _rsi_value(gain: float, loss: float) -> float:  # pragma: no cover - jitted
    total = gain + loss
    if -1e-8 < total < 1e-8:  # TA-Lib's TA_IS_ZERO: a flat window gives 0
        return 0.0
    return 100.0 * (gain / total)


def rsi(bars: Bars, period: int) -> np.ndarray:
    """RSI with Wilder's smoothing seeded by the simple mean of the first ``period`` moves
    (TA-Lib's arithmetic); NaN for the first ``period`` bars."""
    return _cached(bars, "rsi", period, lambda: _wilder_rsi(bars.close, period))


def table(
    bars: Bars, indicator: Callable[[Bars, int], np.ndarray], windows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stack one row per distinct window; return the table and each input's row index."""
    distinct, rows = np.unique(np.asarray(windows, dtype=np.int64), return_inverse=True)
    stacked = np.empty((len(distinct), len(bars)), dtype=np.float64)
    for i, window in enumerate(distinct.tolist()):
        stacked[i] = indicator(bars, int(window))
    return stacked, rows.astype(np.int64)


def clear_cache() -> None:
    """Forget every cached indicator (benchmarks use it to time indicator work too)."""
    global _cached_bytes
    with _lock:
        _cache.clear()
        _cached_bytes = 0

"""Jitted signal kernels shared by the strategies (the SPEC's strict cross definitions).

A cross above of ``a`` over ``b`` at bar t is ``a[t-1] < b[t-1] and a[t] > b[t]``;
a cross below is the mirror. Comparisons with NaN are false, so warm-up bars never signal.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def fill_series_cross(
    a: np.ndarray,
    a_rows: np.ndarray,
    b: np.ndarray,
    b_rows: np.ndarray,
    start: int,
    stop: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - jitted
    """+1 where row ``a_rows[j]`` of ``a`` crosses above row ``b_rows[j]`` of ``b``; -1 below."""
    n = a.shape[1]
    for j in range(start, stop):
        x = a[a_rows[j]]
        y = b[b_rows[j]]
        row = out[j - start]
        row[0] = 0
        for t in range(1, n):
            up = (x[t - 1] < y[t - 1]) & (x[t] > y[t])
            down = (x[t - 1] > y[t - 1]) & (x[t] < y[t])
            row[t] = np.int8(up) - np.int8(down)


@njit(cache=True)
def fill_level_cross(
    a: np.ndarray,
    a_rows: np.ndarray,
    long_below: np.ndarray,
    exit_above: np.ndarray,
    start: int,
    stop: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - jitted
    """+1 where ``a`` crosses below ``long_below[j]``; -1 where it crosses above ``exit_above[j]``."""
    n = a.shape[1]
    for j in range(start, stop):
        x = a[a_rows[j]]
        lo = long_below[j]
        hi = exit_above[j]
        row = out[j - start]
        row[0] = 0
        for t in range(1, n):
            enter = (x[t - 1] > lo) & (x[t] < lo)
            leave = (x[t - 1] < hi) & (x[t] > hi)
            row[t] = np.int8(enter) - np.int8(leave)

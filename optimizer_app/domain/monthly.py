"""Monthly returns of an equity curve: one row per calendar year, one column per month, and the
year's return. A month's return is the equity at its last bar over the equity at the last bar
of the month before (for the first month: the curve's first value, the starting cash), less
one; a year's return compounds its months the same way. Pure: numpy only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MONTHS = 12


@dataclass(frozen=True)
class YearReturns:
    year: int
    months: tuple[float | None, ...]  # January..December; None: no bars that month
    total: float | None  # the year's return (over the months it has)


def _as_array(equity: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in equity], dtype=np.float64)


def _ratio(end: float, start: float) -> float | None:
    if not (math.isfinite(end) and math.isfinite(start)) or start <= 0:
        return None
    return end / start - 1.0


def monthly_returns(dates: Sequence[str], equity: Sequence[float | None]) -> list[YearReturns]:
    """Returns by year and month of an equity curve given as ISO dates (``YYYY-MM-DD``, in
    order) and values; missing or non-finite values are skipped. Empty for an empty curve."""
    if len(dates) != len(equity):
        raise ValueError(f"{len(dates)} dates but {len(equity)} equity values")
    values = _as_array(equity)
    keep = np.isfinite(values)
    if not keep.any():
        return []
    days = np.array(dates, dtype="datetime64[D]")[keep]
    values = values[keep]
    months = days.astype("datetime64[M]")
    # The last bar of each month: where the next bar falls in another month.
    last = np.flatnonzero(np.append(months[1:] != months[:-1], True))
    month_end = values[last]
    month_start = np.concatenate(([values[0]], month_end[:-1]))
    keys = months[last].astype(np.int64)  # months since 1970-01
    rows: dict[int, list[float | None]] = {}
    year_start: dict[int, float] = {}
    year_end: dict[int, float] = {}
    for key, start, end in zip(keys.tolist(), month_start.tolist(), month_end.tolist(),
                               strict=True):
        year, month = 1970 + key // MONTHS, key % MONTHS
        rows.setdefault(year, [None] * MONTHS)[month] = _ratio(end, start)
        year_start.setdefault(year, start)
        year_end[year] = end
    return [
        YearReturns(year, tuple(rows[year]), _ratio(year_end[year], year_start[year]))
        for year in sorted(rows)
    ]

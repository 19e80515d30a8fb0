"""Numbers, durations and dates as people read them. Pure functions, used by every page state;
a missing or non-finite value is shown as an en dash."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MISSING = "–"


def finite(value: Any) -> float | None:
    """The value as a finite float, or None (missing, non-numeric, NaN or infinite)."""
    return _finite(value)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def count(value: Any) -> str:
    """A whole number with thousands separators: ``12,345``."""
    number = _finite(value)
    return MISSING if number is None else f"{round(number):,}"


def decimal(value: Any, places: int = 2) -> str:
    """A number with fixed decimals and thousands separators: ``1,234.57``."""
    number = _finite(value)
    if number is None:
        return MISSING
    if round(number, places) == 0:
        number = 0.0  # no "-0.00"
    return f"{number:,.{places}f}"


def percent(fraction: Any, places: int = 1) -> str:
    """A fraction as a percentage: ``0.1234`` → ``12.3%``."""
    number = _finite(fraction)
    return MISSING if number is None else f"{decimal(number * 100, places)}%"


def plain_number(value: Any) -> str:
    """A parameter value as typed: integers without decimals, floats without trailing zeros."""
    number = _finite(value)
    if number is None:
        return MISSING
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.6g}"


def duration(seconds: Any) -> str:
    """A span of time: ``<1 s``, ``42 s``, ``3 min 05 s``, ``2 h 07 min``, ``3 d 4 h``."""
    number = _finite(seconds)
    if number is None or number < 0:
        return MISSING
    if number < 1:
        return "<1 s"
    total = int(round(number))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def date_time(moment: datetime | None) -> str:
    """A moment in UTC: ``5 Mar 2026, 14:03 UTC``."""
    if moment is None:
        return MISSING
    utc = as_utc(moment)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def day(moment: datetime | None) -> str:
    """The UTC date of a moment: ``5 Mar 2026``."""
    return MISSING if moment is None else f"{as_utc(moment).day} {as_utc(moment):%b %Y}"


def clock(moment: datetime | None) -> str:
    """The UTC time of day of a moment: ``14:03 UTC``."""
    return MISSING if moment is None else f"{as_utc(moment):%H:%M} UTC"


def progress_fraction(done: int, total: int) -> float:
    """Done over total, clamped to 0..1 (0 for an empty grid)."""
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, done / total))


def size(num_bytes: Any) -> str:
    """A size in bytes as people read it: ``512 B``, ``1.5 KiB``, ``12.3 MiB``, ``10 GiB``."""
    number = _finite(num_bytes)
    if number is None or number < 0:
        return MISSING
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if number < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(number):,} B"
            shown = f"{number:,.1f}".removesuffix(".0")
            return f"{shown} {unit}"
        number /= 1024
    return MISSING  # pragma: no cover

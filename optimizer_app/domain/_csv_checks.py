"""CSV upload parsing and row-level validation (private to :mod:`datasets`)."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

MAX_REPORTED_ROWS = 10

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "time", "timestamp", "datetime", "day"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
}
PRICE_COLUMNS = ("open", "high", "low", "close")


class DatasetError(ValueError):
    """An upload that cannot be used; ``details`` lists the first bad rows."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = details or []


def _decode(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise DatasetError(
            f"the file is {len(data):,} bytes; the limit is {max_bytes:,} bytes. "
            "Upload a smaller file (fewer rows or columns)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start}); "
            "save it as UTF-8 CSV and upload again."
        ) from None
    if not text.strip():
        raise DatasetError("the file is empty; upload a CSV with a header row and daily bars.")
    return text


def _map_header(header: list[str]) -> dict[str, int]:
    """Canonical column name -> position, matching names case-insensitively and with aliases."""
    normalized = [h.strip().lower() for h in header]
    mapping: dict[str, int] = {}
    for canonical, aliases in HEADER_ALIASES.items():
        hits = [i for i, name in enumerate(normalized) if name in aliases]
        if len(hits) > 1:
            names = ", ".join(repr(header[i]) for i in hits)
            raise DatasetError(f"columns {names} all mean {canonical!r}; keep only one of them.")
        if hits:
            mapping[canonical] = hits[0]
    missing = [c for c in ("date", *PRICE_COLUMNS) if c not in mapping]
    if missing:
        found = ", ".join(repr(h) for h in header) or "none"
        raise DatasetError(
            f"missing column(s) {', '.join(missing)}; the header must name "
            f"date, open, high, low, close (volume optional), found {found}."
        )
    return mapping


def _read_table(text: str) -> tuple[dict[str, int], pd.DataFrame]:
    header_line = text.split("\n", 1)[0]
    header = next(csv.reader([header_line]))
    mapping = _map_header(header)
    positions = sorted(mapping.values())
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=1,
            usecols=positions,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DatasetError(f"the file is not a well-formed CSV: {exc}") from None
    by_position = {i: c for c, i in mapping.items()}
    frame.columns = [by_position[int(i)] for i in frame.columns]
    frame = frame.fillna("")
    frame.index = np.arange(1, len(frame) + 1)  # 1-based data row numbers
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        blank &= (frame[name].str.strip() == "").to_numpy()
    return mapping, frame[~blank]


class _Problems:
    """Collects one problem text per row, keeping the order of the checks."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.by_row: dict[int, list[str]] = {}
        self.bad = np.zeros(len(rows), dtype=bool)

    def add(self, mask: np.ndarray, describe: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        self.bad |= mask
        for pos in np.flatnonzero(mask)[: MAX_REPORTED_ROWS * 4]:
            self.by_row.setdefault(int(self.rows[pos]), []).append(describe(int(pos)))

    def raise_if_any(self) -> None:
        count = int(self.bad.sum())
        if not count:
            return
        first = sorted(self.by_row)[:MAX_REPORTED_ROWS]
        details = [{"row": r, "problem": "; ".join(self.by_row[r])} for r in first]
        listed = "; ".join(f"row {d['row']}: {d['problem']}" for d in details[:3])
        noun = "row is" if count == 1 else "rows are"
        raise DatasetError(
            f"{count} data {noun} invalid ({listed}{'; …' if count > 3 else ''}). "
            "Fix or remove these rows (row 1 is the first line after the header) and upload again.",
            details,
        )


def _parse_numbers(frame: pd.DataFrame, column: str, problems: _Problems) -> np.ndarray:
    raw = frame[column].str.strip()
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    text = raw.to_numpy()
    empty = text == ""
    lowered = np.char.lower(text.astype(str))
    nan_text = np.isin(lowered, ("nan", "na", "n/a", "null", "none"))
    problems.add(empty, lambda i: f"{column} is empty")
    problems.add(nan_text, lambda i: f"{column} is NaN")
    not_number = np.isnan(values) & ~empty & ~nan_text
    problems.add(not_number, lambda i: f"{column} is not a number ({text[i]!r})")
    problems.add(np.isinf(values), lambda i: f"{column} is not finite ({text[i]!r})")
    return values


def _parse_dates(frame: pd.DataFrame, problems: _Problems) -> np.ndarray:
    raw = frame["date"].str.strip()
    parsed = pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=True)
    stamps = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    text = raw.to_numpy()
    bad = np.isnat(stamps)
    problems.add(bad, lambda i: f"date {text[i]!r} is not an ISO date (YYYY-MM-DD)")
    days = stamps.astype("datetime64[D]")
    intraday = ~bad & (days.astype("datetime64[ns]") != stamps)
    problems.add(intraday, lambda i: f"date {text[i]!r} has a time of day; only daily bars")
    return days


def _check_prices(columns: dict[str, np.ndarray], problems: _Problems) -> None:
    with np.errstate(invalid="ignore"):
        for name in PRICE_COLUMNS:
            values = columns[name]
            problems.add(values <= 0, lambda i, n=name, v=values: f"{n} must be > 0 (got {v[i]:g})")
        high, low = columns["high"], columns["low"]
        body_top = np.maximum(columns["open"], columns["close"])
        body_low = np.minimum(columns["open"], columns["close"])
        problems.add(high < low, lambda i: f"high {high[i]:g} is below low {low[i]:g}")
        problems.add(
            (high >= low) & (high < body_top),
            lambda i: f"high {high[i]:g} is below open/close {body_top[i]:g}",
        )
        problems.add(
            (high >= low) & (low > body_low),
            lambda i: f"low {low[i]:g} is above open/close {body_low[i]:g}",
        )
        volume = columns["volume"]
        problems.add(volume < 0, lambda i: f"volume must be >= 0 (got {volume[i]:g})")


def _check_order(dates: np.ndarray, rows: np.ndarray, problems: _Problems) -> None:
    if len(dates) < 2:
        return
    step = dates[1:] - dates[:-1]
    text = np.datetime_as_string(dates, unit="D")
    repeat = np.r_[False, step == np.timedelta64(0, "D")]
    backwards = np.r_[False, step < np.timedelta64(0, "D")]
    problems.add(repeat, lambda i: f"date {text[i]} repeats row {rows[i - 1]}")
    problems.add(
        backwards,
        lambda i: f"date {text[i]} is before row {rows[i - 1]} ({text[i - 1]}); sort by date",
    )


def parse_csv_frame(data: bytes, *, max_bytes: int, min_rows: int) -> dict[str, np.ndarray]:
    """Validated columns: date (datetime64[D]), open, high, low, close, volume (float64)."""
    text = _decode(data, max_bytes)
    mapping, frame = _read_table(text)
    rows = frame.index.to_numpy()
    problems = _Problems(rows)
    columns: dict[str, np.ndarray] = {"date": _parse_dates(frame, problems)}
    for name in PRICE_COLUMNS:
        columns[name] = _parse_numbers(frame, name, problems)
    if "volume" in mapping:
        blank = frame["volume"].str.strip() == ""
        volume = frame["volume"].where(~blank, "0").to_frame()
        columns["volume"] = _parse_numbers(volume, "volume", problems)
    else:
        columns["volume"] = np.zeros(len(frame), dtype=np.float64)
    _check_prices(columns, problems)
    problems.raise_if_any()
    _check_order(columns["date"], rows, problems)
    problems.raise_if_any()
    if len(frame) < min_rows:
        raise DatasetError(
            f"the file has {len(frame)} data rows; at least {min_rows} daily bars are needed."
        )
    return columns

"""OHLCV daily bars: the in-memory form, CSV parsing with validation, and bundled datasets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import numpy as np

from optimizer_app.domain._csv_checks import DatasetError, parse_csv_frame

__all__ = [
    "BUNDLED_DATASETS",
    "Bars",
    "BundledDataset",
    "DatasetError",
    "bars_to_csv",
    "checksum",
    "get_bundled",
    "load_bundled",
    "load_bundled_bars",
    "parse_csv",
]

CSV_COLUMNS = ("date", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class Bars:
    """Daily bars, oldest first. Prices and volume are float64; dates are datetime64[D]."""

    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @cached_property
    def date_texts(self) -> list[bytes]:
        """Each date as ``YYYY-MM-DD`` (made once: every equity curve written needs them)."""
        return np.datetime_as_string(self.dates, unit="D").astype("S10").tolist()  # type: ignore[no-any-return]

    @cached_property
    def fingerprint(self) -> str:
        """A short content hash used to key indicator caches (not the public checksum)."""
        digest = hashlib.blake2b(digest_size=16)
        for array in (self.dates, self.open, self.high, self.low, self.close):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def parse_csv(data: bytes, *, max_bytes: int, min_rows: int = 50) -> Bars:
    """Parse and validate an uploaded CSV; raise :class:`DatasetError` saying what to fix."""
    frame = parse_csv_frame(data, max_bytes=max_bytes, min_rows=min_rows)
    return Bars(
        dates=frame["date"],
        open=frame["open"],
        high=frame["high"],
        low=frame["low"],
        close=frame["close"],
        volume=frame["volume"],
    )


def _format_floats(values: np.ndarray) -> list[str]:
    return [repr(v) for v in values.tolist()]


def _format_volume(values: np.ndarray) -> list[str]:
    integral = bool(np.all(np.floor(values) == values)) and bool(np.all(np.abs(values) < 2**53))
    if integral:
        return [str(v) for v in values.astype(np.int64).tolist()]
    return _format_floats(values)


def bars_to_csv(bars: Bars) -> bytes:
    """The canonical CSV: ISO dates, shortest round-trip floats, integral volume as integers."""
    columns = [
        np.datetime_as_string(bars.dates, unit="D").tolist(),
        _format_floats(bars.open),
        _format_floats(bars.high),
        _format_floats(bars.low),
        _format_floats(bars.close),
        _format_volume(bars.volume),
    ]
    lines = [",".join(CSV_COLUMNS)]
    lines.extend(",".join(row) for row in zip(*columns, strict=True))
    return ("\n".join(lines) + "\n").encode("ascii")


def checksum(bars: Bars) -> str:
    """sha256 hex of the canonical CSV: the same prices give the same checksum however formatted."""
    return hashlib.sha256(bars_to_csv(bars)).hexdigest()


@dataclass(frozen=True, kw_only=True)
class BundledDataset:
    key: str
    name: str
    symbol: str
    timeframe: str = "1d"
    filename: str
    source: str = field(repr=False)


_WIKI_SOURCE = (
    "Quandl WIKI Prices (unadjusted open/high/low/close/volume), public domain, "
    "as redistributed by the bokeh-sampledata package"
)

BUNDLED_DATASETS: list[BundledDataset] = [
    BundledDataset(
        key="goog-daily",
        name="Google (GOOG) daily",
        symbol="GOOG",
        filename="goog_daily.csv",
        source=_WIKI_SOURCE,
    ),
    BundledDataset(
        key="msft-daily",
        name="Microsoft (MSFT) daily",
        symbol="MSFT",
        filename="msft_daily.csv",
        source=_WIKI_SOURCE,
    ),
]


def get_bundled(key: str) -> BundledDataset:
    for dataset in BUNDLED_DATASETS:
        if dataset.key == key:
            return dataset
    known = ", ".join(d.key for d in BUNDLED_DATASETS)
    raise KeyError(f"unknown bundled dataset {key!r}; known: {known}")


def load_bundled(key: str) -> bytes:
    """The bundled CSV file's bytes (already in canonical form)."""
    dataset = get_bundled(key)
    return resources.files("optimizer_app.domain.data").joinpath(dataset.filename).read_bytes()


def load_bundled_bars(key: str) -> Bars:
    data = load_bundled(key)
    return parse_csv(data, max_bytes=len(data))

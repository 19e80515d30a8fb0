"""JSON texts of many rows at once, for the bulk result write path: a 100,000-combination
job stores 100,000 metrics objects, so the per-row work matters.

Each column is encoded by orjson in one call and the rows are filled into one template (the
standard library, a text per row, spent as long on the texts as the engine on the backtests).
The text is compact JSON that parses to the same values as ``json.dumps(row)`` (floats in
their shortest round-trip form; missing or non-finite values are ``null``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson

from optimizer_app.domain.stats import INTEGER_METRICS, METRIC_KEYS

_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"), allow_nan=False)


def encode(value: Any) -> str:
    return _ENCODER.encode(value)


def _clean(values: np.ndarray, *, as_int: bool) -> list[Any]:
    """JSON-safe values: NaN and ±inf become None (null); ``as_int`` values become ints."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    if finite.all():
        return array.astype(np.int64).tolist() if as_int else array.tolist()
    return [
        (int(v) if as_int else v) if ok else None
        for v, ok in zip(array.tolist(), finite.tolist(), strict=True)
    ]


def value_texts(values: np.ndarray, *, integer: bool = False) -> list[str]:
    """Each number of a column as JSON text, encoded in one call: floats in their shortest
    round-trip form, non-finite values as ``null``, and ``integer`` columns as ints."""
    array = np.asarray(values)
    if array.size == 0:
        return []
    if array.dtype.kind not in "iuf":
        raise TypeError(f"not a numeric column: {array.dtype}")
    if integer and array.dtype.kind == "f":
        if not np.isfinite(array).all():  # rare: encode one value at a time
            return [orjson.dumps(v).decode() for v in _clean(array, as_int=True)]
        array = array.astype(np.int64)
    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].decode().split(",")


def json_rows(
    columns: dict[str, np.ndarray], count: int, *, integers: frozenset[str] = frozenset()
) -> list[str]:
    """``count`` JSON objects, the ``k``-th holding each numeric column's ``k``-th value (the
    columns in ``integers`` as ints). Parses to the same values as ``json.dumps`` of the row
    with non-finite values as None; each column is encoded in one call and the rows are
    filled into one template, ~3x faster than encoding a dict per row."""
    if not columns:
        return ["{}"] * count
    fields = ",".join(orjson.dumps(key).decode().replace("%", "%%") + ":%s" for key in columns)
    template = "{" + fields + "}"
    texts = [value_texts(v, integer=key in integers) for key, v in columns.items()]
    if any(len(t) != count for t in texts):
        raise ValueError(f"every column must hold {count} values")
    return [template % row for row in zip(*texts, strict=True)]


# -- a task's metrics as stored: a JSON array in METRIC_KEYS order ---------------------------
# Every combination's metrics are written, so they are kept compact: ``[finalEquity,
# totalReturn, ...]`` (non-finite values null, ``trades`` as a float) rather than an object
# naming each key (~40% fewer bytes to send and store, and a whole chunk is encoded in one
# call). ``stored_metrics`` turns either form back into the object every reader sees.


def metric_lines(metrics: dict[str, np.ndarray], count: int) -> str:
    """The ``count`` rows' metrics as compact JSON arrays (METRIC_KEYS order), one per line."""
    if count == 0:
        return ""
    matrix = np.column_stack([np.asarray(metrics[k], dtype=np.float64) for k in METRIC_KEYS])
    if matrix.shape[0] != count:
        raise ValueError(f"every metric must hold {count} values")
    text = orjson.dumps(np.ascontiguousarray(matrix), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].replace(b"],[", b"]\n[").decode()


def stored_metrics(value: Any) -> dict[str, Any] | None:
    """A task's stored metrics (a compact array, or an object as older rows hold) as
    ``{metric: value}``; ``trades`` as an int."""
    if value is None or isinstance(value, dict):
        return value
    if len(value) != len(METRIC_KEYS):
        raise ValueError(f"expected {len(METRIC_KEYS)} metric values, got {len(value)}")
    return {
        key: int(v) if v is not None and key in INTEGER_METRICS else v
        for key, v in zip(METRIC_KEYS, value, strict=True)
    }

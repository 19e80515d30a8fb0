"""JSON texts of many rows at once, for the bulk result write path: a 100,000-combination
job stores 100,000 metrics objects, so the per-row work is one ``%``-format.

Rows of one chunk share their keys, so each object is a template (``{"a":%s,"b":%s}``) filled
with values whose ``str()`` is their JSON text (Python ints and finite floats print as
``json`` prints them; missing or non-finite values are the text ``null``). The result is the
same text as ``json.dumps(row, separators=(",", ":"))``."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from optimizer_app.domain.stats import INTEGER_METRICS

Columns = dict[str, list[Any]]

_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"), allow_nan=False)
NULL = "null"
_NUMBERS = frozenset({int, float})
_NUMBERS_OR_NONE = frozenset({int, float, type(None)})


def encode(value: Any) -> str:
    return _ENCODER.encode(value)


def clean_column(key: str, values: np.ndarray) -> list[Any]:
    """JSON-safe values: NaN and ±inf become None (null); integer metrics become ints."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    if finite.all():
        return array.astype(np.int64).tolist() if key in INTEGER_METRICS else array.tolist()
    as_int = key in INTEGER_METRICS
    return [
        (int(v) if as_int else v) if ok else None
        for v, ok in zip(array.tolist(), finite.tolist(), strict=True)
    ]


def metric_columns(metrics: dict[str, np.ndarray], positions: np.ndarray | None = None) -> Columns:
    """Each metric's JSON-safe values (at ``positions``, or all of them)."""
    return {
        k: clean_column(k, np.asarray(v) if positions is None else np.asarray(v)[positions])
        for k, v in metrics.items()
    }


def _json_values(values: list[Any]) -> list[Any]:
    """Values whose ``str()`` is their JSON text: finite ints and floats as they are (checked
    at C speed), None as ``null``, anything else encoded one by one."""
    kinds = set(map(type, values))
    if kinds <= _NUMBERS and all(map(math.isfinite, values)):
        return values
    if kinds <= _NUMBERS_OR_NONE:
        present = [v for v in values if v is not None]
        if all(map(math.isfinite, present)):
            return [NULL if v is None else v for v in values]
    return [_ENCODER.encode(v) for v in values]


def json_objects(columns: Columns, count: int) -> list[str]:
    """``count`` JSON objects, the ``k``-th holding each column's ``k``-th value."""
    if not columns:
        return ["{}"] * count
    template = "{" + ",".join(
        f"{_ENCODER.encode(key).replace('%', '%%')}:%s" for key in columns
    ) + "}"
    prepared = [_json_values(values) for values in columns.values()]
    return [template % row for row in zip(*prepared, strict=True)]

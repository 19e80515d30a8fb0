"""Turning a chunk's arrays into database rows, in bulk and pre-encoded (ids as hex, JSON
as text): a 100,000-combination job writes 100,000 task rows, so per-row Python work matters.

JSON objects of one chunk share their keys, so each is one ``%``-format of a template
(``{"a":%s,"b":%s}``) with values whose ``str()`` is their JSON text (Python ints and finite
floats print as ``json`` prints them; missing or non-finite values are the text ``null``)."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from optimizer_app.domain.grid import Grid
from optimizer_app.domain.stats import INTEGER_METRICS
from optimizer_app.persistence.models import TaskStatus

_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"), allow_nan=False)
EMPTY_LIST = "[]"
NULL = "null"
_NUMBERS = frozenset({int, float})
_NUMBERS_OR_NONE = frozenset({int, float, type(None)})
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}

Columns = dict[str, list[Any]]


def encode(value: Any) -> str:
    return _ENCODER.encode(value)


def task_id_hexes(job_id: uuid.UUID, indices: Sequence[int]) -> list[str]:
    """``uuid.uuid5(job_id, str(index)).hex`` for each index, without building UUID objects."""
    base = hashlib.sha1(job_id.bytes)
    variant = _VARIANT
    out = []
    for index in indices:
        digest = base.copy()
        digest.update(b"%d" % index)
        h = digest.hexdigest()
        out.append(f"{h[:12]}5{h[13:16]}{variant[h[16]]}{h[17:32]}")
    return out


def _clean_column(key: str, values: np.ndarray) -> list[Any]:
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


def metric_columns(metrics: dict[str, np.ndarray], positions: np.ndarray) -> Columns:
    """Each metric's JSON-safe values at ``positions``."""
    return {k: _clean_column(k, np.asarray(v)[positions]) for k, v in metrics.items()}


def param_columns(grid: Grid, indices: np.ndarray) -> Columns:
    return {name: values.tolist() for name, values in grid.params_for(indices).items()}


def row_dict(columns: Columns, k: int) -> dict[str, Any]:
    """The ``k``-th row of ``columns`` as a dict."""
    return {key: values[k] for key, values in columns.items()}


def metric_dicts(metrics: dict[str, np.ndarray], positions: np.ndarray) -> list[dict[str, Any]]:
    """One ``{metric: value}`` dict per position."""
    columns = metric_columns(metrics, positions)
    return [row_dict(columns, k) for k in range(len(positions))]


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
    """``count`` JSON objects, the ``k``-th holding each column's ``k``-th value; the same
    text as ``json.dumps(row, separators=(",", ":"))``."""
    if not columns:
        return ["{}"] * count
    template = "{" + ",".join(
        f"{_ENCODER.encode(key).replace('%', '%%')}:%s" for key in columns
    ) + "}"
    prepared = [_json_values(values) for values in columns.values()]
    return [template % row for row in zip(*prepared, strict=True)]


def clean_score(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def task_rows(
    *,
    job_id: uuid.UUID,
    indices: Sequence[int],
    params: Sequence[str],
    status: TaskStatus,
    scores: Sequence[float | None] | None,
    metrics: Sequence[str] | None,
    attempts: int,
    error: str | None,
    started_at: str,
    finished_at: str,
) -> list[tuple[Any, ...]]:
    """Task rows for ``indices`` in ``persistence.tasks.TASK_COLUMNS`` order; ``params`` and
    ``metrics`` are JSON texts. No row links a result summary (see ``link_results``)."""
    count = len(indices)
    error = error[:2000] if error else None
    return list(
        zip(
            task_id_hexes(job_id, indices),
            repeat(job_id.hex, count),
            indices,
            params,
            repeat(status.value, count),
            repeat(None, count) if scores is None else scores,
            repeat(None, count) if metrics is None else metrics,
            repeat(None, count),
            repeat(attempts, count),
            repeat(error, count),
            repeat(started_at, count),
            repeat(finished_at, count),
            strict=True,
        )
    )


RESULT_ID_POSITION = 7


def link_results(
    tasks: list[tuple[Any, ...]], artifacts: dict[int, list[dict[str, str]]]
) -> list[tuple[Any, ...]]:
    """Result-summary rows (``RESULT_COLUMNS`` order) of the task rows at ``artifacts``' keys,
    whose ``result_summary_id`` is set in ``tasks`` in place. A result summary holds the same
    metrics as its task row, and the artifact links."""
    results = []
    for k in sorted(artifacts):
        row = tasks[k]
        result_id = uuid.uuid5(uuid.UUID(hex=row[0]), "result").hex
        tasks[k] = row[:RESULT_ID_POSITION] + (result_id,) + row[RESULT_ID_POSITION + 1 :]
        results.append((result_id, row[0], row[6], _ENCODER.encode(artifacts[k])))
    return results

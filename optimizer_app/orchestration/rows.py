"""Turning a chunk's arrays into database rows, in bulk and pre-encoded (ids as hex, JSON
as text): a 100,000-combination job writes 200,000 rows, so per-row Python work matters."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from optimizer_app.domain.grid import Grid
from optimizer_app.domain.stats import INTEGER_METRICS
from optimizer_app.persistence.models import TaskStatus
from optimizer_app.persistence.tasks import uuid5_bytes

_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"), allow_nan=False)
EMPTY_LIST = "[]"


def encode(value: Any) -> str:
    return _ENCODER.encode(value)


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


def metric_dicts(metrics: dict[str, np.ndarray], positions: np.ndarray) -> list[dict[str, Any]]:
    """One ``{metric: value}`` dict per position."""
    keys = list(metrics)
    columns = [_clean_column(k, np.asarray(metrics[k])[positions]) for k in keys]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def param_dicts(grid: Grid, indices: np.ndarray) -> list[dict[str, Any]]:
    columns = grid.params_for(indices)
    names = list(columns)
    lists = [columns[n].tolist() for n in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]


def clean_score(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def task_rows(
    *,
    job_id: uuid.UUID,
    indices: Sequence[int],
    params: Sequence[dict[str, Any]],
    status: TaskStatus,
    scores: Sequence[float | None] | None,
    attempts: int,
    error: str | None,
    started_at: str,
    finished_at: str,
) -> list[tuple[Any, ...]]:
    """Task rows for ``indices`` in ``persistence.tasks.TASK_COLUMNS`` order."""
    namespace = job_id.bytes
    job_hex = namespace.hex()
    succeeded = status is TaskStatus.SUCCEEDED
    error = error[:2000] if error else None
    state = status.value
    rows: list[tuple[Any, ...]] = []
    for k, index in enumerate(indices):
        task_id = uuid5_bytes(namespace, str(index))
        rows.append(
            (
                task_id.hex(),
                job_hex,
                index,
                _ENCODER.encode(params[k]),
                state,
                scores[k] if scores is not None else None,
                uuid5_bytes(task_id, "result").hex() if succeeded else None,
                attempts,
                error,
                started_at,
                finished_at,
            )
        )
    return rows


def result_rows(
    *,
    tasks: Sequence[tuple[Any, ...]],
    metrics: Sequence[dict[str, Any]],
    artifacts: dict[int, list[dict[str, str]]],
) -> list[tuple[Any, ...]]:
    """Result-summary rows of succeeded task rows, in ``RESULT_COLUMNS`` order."""
    encode_row = _ENCODER.encode
    return [
        (
            task[6],
            task[0],
            encode_row(metrics[k]),
            encode_row(artifacts[k]) if k in artifacts else EMPTY_LIST,
        )
        for k, task in enumerate(tasks)
    ]

"""Turning a chunk's arrays into database rows, in bulk and pre-encoded (ids as hex, JSON
as text, see ``domain.jsontext``): a 100,000-combination job writes 100,000 task rows, so
per-row Python work matters."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np
import orjson

from optimizer_app.domain.grid import Grid
from optimizer_app.domain.jsontext import encode, json_rows, stored_metrics
from optimizer_app.domain.task_ids import INDEX_BITS, task_id_prefix
from optimizer_app.persistence.models import TaskStatus
from optimizer_app.persistence.tasks import ROW_COLUMNS, TaskBatch, result_id_for

__all__ = [
    "clean_score", "clean_scores", "link_results", "metrics_of", "params_json", "task_id_hexes",
    "task_rows",
]


def task_id_hexes(job_id: uuid.UUID, indices: Sequence[int]) -> list[str]:
    """``task_id_for(job_id, index).hex`` for each index, without building UUID objects: the
    index parts as one hex text (numpy), cut into rows."""
    prefix = task_id_prefix(job_id)
    if not len(indices):
        return []
    low = np.asarray(indices, dtype=np.uint64) | np.uint64(INDEX_BITS)
    digits = low.astype(">u8").tobytes().hex()
    return [prefix + digits[k : k + 16] for k in range(0, len(digits), 16)]


def params_json(grid: Grid, indices: np.ndarray) -> list[str]:
    """The JSON texts of the combinations' parameters."""
    return json_rows(grid.params_for(indices), len(indices))


def metrics_of(line: str) -> dict[str, Any]:
    """A stored metrics text (see ``jsontext.metric_lines``) as ``{metric: value}``."""
    return stored_metrics(orjson.loads(line)) or {}


def clean_score(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def clean_scores(values: np.ndarray) -> list[float | None]:
    """Scores as stored: floats, None where not finite."""
    scores: list[float | None] = values.tolist()
    for k in np.flatnonzero(~np.isfinite(values)).tolist():
        scores[k] = None
    return scores


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
    error_category: str | None = None,
) -> TaskBatch:
    """The task rows of ``indices``; ``params`` and ``metrics`` are JSON texts. No row links
    a result summary (see ``link_results``)."""
    count = len(indices)
    rows = list(
        zip(
            task_id_hexes(job_id, indices),
            indices,
            params,
            repeat(None, count) if scores is None else scores,
            repeat(None, count) if metrics is None else metrics,
            repeat(None, count),
            strict=True,
        )
    )
    error = error.replace("\x00", "")[:2000] if error else None  # PostgreSQL refuses NUL
    return TaskBatch(
        (job_id.hex, status.value, attempts, error, error_category, started_at, finished_at), rows
    )


RESULT_ID_POSITION = ROW_COLUMNS.index("result_summary_id")
_METRICS_POSITION = ROW_COLUMNS.index("metrics")


def link_results(
    batch: TaskBatch, artifacts: dict[int, list[dict[str, str]]]
) -> list[tuple[Any, ...]]:
    """Result-summary rows (``RESULT_COLUMNS`` order) of the task rows at ``artifacts``' keys,
    whose ``result_summary_id`` is set in ``batch`` in place. A result summary holds the same
    metrics as its task row, and the artifact links."""
    results = []
    tasks = batch.rows
    for k in sorted(artifacts):
        row = tasks[k]
        result_id = result_id_for(uuid.UUID(hex=row[0])).hex
        tasks[k] = row[:RESULT_ID_POSITION] + (result_id,) + row[RESULT_ID_POSITION + 1 :]
        metrics = encode(metrics_of(row[_METRICS_POSITION]))  # by name, as the schema says
        results.append((result_id, row[0], metrics, encode(artifacts[k])))
    return results

"""A chunk's results as one compressed columnar file (Parquet, zstd).

One row per combination: ``index``, ``status`` (``STATUS_SUCCEEDED`` / ``STATUS_FAILED``),
``score`` (float64, exact; null when not finite or when the row fails a result constraint),
``passes`` (the result constraints), one column per parameter (``p_<name>``, the value) and
one per metric (float32 — seven significant digits, for analysis over the grid; the Top-N
rows keep every metric exactly in the database). Rows are sorted by ``index``.

Workers write these files themselves (pure domain: pyarrow, no database), under a unique
name; a file becomes part of a job only when the orchestrator commits its name.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from optimizer_app.domain.stats import INTEGER_METRICS, METRIC_KEYS

__all__ = [
    "STATUS_FAILED", "STATUS_SUCCEEDED", "chunk_table", "param_column", "write_table",
]

STATUS_SUCCEEDED = 0
STATUS_FAILED = 1
ROW_GROUP_ROWS = 65_536
_FLOAT_METRICS = [key for key in METRIC_KEYS if key not in INTEGER_METRICS]


def param_column(name: str) -> str:
    return f"p_{name}"


def chunk_table(
    *,
    indices: np.ndarray,
    params: dict[str, np.ndarray],
    scores: np.ndarray | None,
    passes: np.ndarray | None,
    metrics: dict[str, np.ndarray] | None,
) -> pa.Table:
    """The rows of one chunk, sorted by index. ``metrics`` None: every row failed."""
    indices = np.asarray(indices, dtype=np.int64)
    order = np.argsort(indices, kind="stable")
    count = len(indices)
    failed = metrics is None
    columns: dict[str, pa.Array] = {
        "index": pa.array(indices[order]),
        "status": pa.array(
            np.full(count, STATUS_FAILED if failed else STATUS_SUCCEEDED, dtype=np.int8)
        ),
    }
    if scores is None or failed:
        columns["score"] = pa.nulls(count, pa.float64())
    else:
        score = np.asarray(scores, dtype=np.float64)[order]
        ok = np.isfinite(score)
        if passes is not None:
            ok &= np.asarray(passes, dtype=bool)[order]
        columns["score"] = pa.array(score, mask=~ok)
    columns["passes"] = (
        pa.nulls(count, pa.bool_()) if failed
        else pa.array(np.ones(count, dtype=bool) if passes is None
                      else np.asarray(passes, dtype=bool)[order])
    )
    for name, values in params.items():
        columns[param_column(name)] = pa.array(np.asarray(values)[order])
    for key in METRIC_KEYS:
        kind = pa.int32() if key in INTEGER_METRICS else pa.float32()
        if failed:
            columns[key] = pa.nulls(count, kind)
            continue
        values = np.asarray(metrics[key])[order]  # type: ignore[index]
        if key in INTEGER_METRICS:
            columns[key] = pa.array(values.astype(np.int32))
        else:
            column = values.astype(np.float32)
            columns[key] = pa.array(column, mask=~np.isfinite(column))
    return pa.table(columns)


def write_table(table: pa.Table, directory: Path, *, level: int = 3) -> tuple[str, int]:
    """Write ``table`` durably as a new uniquely named file in ``directory`` (written to a
    temporary name, flushed to disk, then renamed). Returns (file name, bytes)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.parquet"
    partial = directory / f".{name}.partial"
    try:
        pq.write_table(
            table, partial, compression="zstd", compression_level=level,
            row_group_size=ROW_GROUP_ROWS,
            use_byte_stream_split=["score", *_FLOAT_METRICS],
            write_statistics=["index", "score"],
        )
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, directory / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return name, (directory / name).stat().st_size

"""Storing results in the results store as the workers and the orchestrator do, for tests
that need a job with given scores without running it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
from sqlmodel import Session

from optimizer_app.domain.grid import Grid
from optimizer_app.domain.results_file import chunk_table, write_table
from optimizer_app.domain.stats import INTEGER_METRICS, METRIC_KEYS
from optimizer_app.persistence import results_store


def store_results(session: Session, job_id: uuid.UUID, grid: Grid, indices: Sequence[int],
                  scores: Sequence[float | None]) -> None:
    """One committed results file of succeeded combinations; a None score is a combination
    failing a result constraint (stored without a score). Metrics are left unknown."""
    idx = np.asarray(indices, dtype=np.int64)
    values = np.asarray([np.nan if s is None else s for s in scores], dtype=np.float64)
    metrics = {key: (np.zeros(len(idx), dtype=np.int64) if key in INTEGER_METRICS
                     else np.full(len(idx), np.nan)) for key in METRIC_KEYS}
    table = chunk_table(indices=idx, params=grid.params_for(idx), scores=values,
                        passes=~np.isnan(values), metrics=metrics)
    name, size = write_table(table, results_store.job_dir(job_id))
    results_store.add_file(session=session, job_id=job_id, name=name, rows=len(idx), failed=0,
                           size=size)
    session.flush()

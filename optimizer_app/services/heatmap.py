"""The score heatmap of a job: the best score at each pair of values of two chosen
parameters over every finished combination that passes the result constraints. The
aggregation itself is one persistence query (``tasks.best_by_pair``); this module checks the
axes and names the cells."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import NotFoundError, ValidationError
from optimizer_app.core.memo import SameSource
from optimizer_app.domain.grid import Grid, GridError, build_grid
from optimizer_app.domain.jsontext import encode
from optimizer_app.persistence import tasks as task_queries
from optimizer_app.persistence.models import LIVE_STATUSES, JobStatus, OptimizationJob
from optimizer_app.persistence.results_store import AggregateTooLargeError
from optimizer_app.persistence.tasks import PairBest
from optimizer_app.services.history import owned_job_or_404

_GRIDS: OrderedDict[tuple[uuid.UUID, str], Grid] = OrderedDict()
_GRIDS_SIZE = 8
_GRIDS_LOCK = threading.Lock()
# get_heatmap's, per list of best cells (a few MB each for a large job)
_HEATMAPS: SameSource[Heatmap] = SameSource(8)


def job_grid(job: OptimizationJob) -> Grid:
    """The job's grid, rebuilt from its parameter space (kept for the last few jobs: a job's
    space never changes, and filtering a large grid by its constraint takes a while)."""
    key = (job.id, encode(job.param_space))
    with _GRIDS_LOCK:
        if key in _GRIDS:
            _GRIDS.move_to_end(key)
            return _GRIDS[key]
    total = int((job.summary or {}).get("total") or 0)
    try:
        grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, total))
    except GridError as exc:
        raise NotFoundError(f"the grid of job {job.id} cannot be rebuilt: {exc.message}") from exc
    with _GRIDS_LOCK:
        _GRIDS[key] = grid
        while len(_GRIDS) > _GRIDS_SIZE:
            _GRIDS.popitem(last=False)
    return grid


def varying(grid: Grid) -> list[str]:
    """The parameters with more than one value in the grid (the first one when none does):
    the ones worth an axis."""
    names = [name for name in grid.param_names if len(grid.values[name]) > 1]
    return names or list(grid.param_names[:1])


def _axes(grid: Grid, x: str | None, y: str | None) -> tuple[str, str | None]:
    """The chosen axes, by default the first two parameters that vary (``y`` None when only
    one does: a line); 422 for a parameter the strategy does not have or for the same
    parameter twice."""
    names = grid.param_names
    known = ", ".join(names)
    for axis, name in (("x", x), ("y", y)):
        if name and name not in names:
            problem = f"{name!r} is not a parameter of this strategy; choose one of {known}"
            raise ValidationError(f"{axis}: {problem}",
                                  details=[{"field": axis, "problem": problem}])
    if x and x == y:
        problem = "choose two different parameters for the two axes"
        raise ValidationError(f"y: {problem}", details=[{"field": "y", "problem": problem}])
    choices = varying(grid)
    if not x:  # the first parameter that varies, else any, other than y; else a line over y
        x = next((n for n in [*choices, *names] if n != y), None)
        if x is None:
            return str(y), None
    if not y:
        y = next((n for n in choices if n != x), None) if y is None else None
    return x, y


def _stamp(job: OptimizationJob, reuse_rows: bool) -> Any:
    """When the job's scored rows may have changed. A live job's rows change with every
    chunk: they are reused a while (``task_queries.LiveStamp``: an axis switch right after a
    refresh re-aggregates without reading them again). A finished job's change only with its
    status, counts and last update (a re-run of failed combinations adds rows).
    ``reuse_rows``: a live job's rows read last, however old (an axis switch between two
    refreshes of the page)."""
    summary = job.summary or {}
    if JobStatus(job.status) in LIVE_STATUSES and reuse_rows:
        return task_queries.ANY_STAMP
    if JobStatus(job.status) in LIVE_STATUSES:
        return task_queries.LiveStamp(job.status)
    return (job.status, int(summary.get("finished") or 0), int(summary.get("failed") or 0),
            str(job.updated_at))


@dataclass(frozen=True)
class Heatmap:
    """A job's heatmap: the best combination at each pair of values (``cells``, ordered by x
    then y) and every parameter of those combinations (``params``, one column per
    parameter, aligned with ``cells``)."""

    x: str
    y: str | None
    x_values: list[int | float]
    y_values: list[int | float]
    axes: list[str]
    metric: str
    mode: str
    cells: list[PairBest]
    params: dict[str, list[int | float]]
    x_step: int = 1  # grid values per column (see ``steps``)
    y_step: int = 1
    x_ends: list[int | float] = field(default_factory=list)  # each column's last value
    y_ends: list[int | float] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The REST body (``HeatmapPublic``, camelCase), built without a model per cell."""
        names = list(self.params)
        rows = zip(*self.params.values(), strict=True) if names else iter(())
        cells = [
            {"x": c.x, "y": c.y, "score": c.score, "index": c.index,
             "params": dict(zip(names, row, strict=True))}
            for c, row in zip(self.cells, rows, strict=True)
        ]
        return {"x": self.x, "y": self.y, "xValues": self.x_values, "yValues": self.y_values,
                "xStep": self.x_step, "yStep": self.y_step, "axes": self.axes,
                "metric": self.metric, "mode": self.mode, "cells": cells}

    def json(self) -> bytes:
        return orjson.dumps(self.public())


def get_heatmap(
    *, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID, x: str | None = None,
    y: str | None = None, reuse_rows: bool = False, max_values: int | None = None
) -> Heatmap:
    """The heatmap over ``x`` and ``y`` (see ``_axes``); ``reuse_rows``: see ``_stamp``.
    ``max_values``: at most this many columns (rows) per axis; a parameter with more values
    has consecutive values grouped (``x_step`` values per column)."""
    job = owned_job_or_404(session=session, owner_id=owner_id, job_id=job_id)
    grid = job_grid(job)
    x_name, y_name = _axes(grid, x, y)
    policy = job.early_stop_policy or {}
    mode = str(policy.get("mode") or "max")
    x_all = grid.values[x_name]
    y_all = grid.values[y_name] if y_name else []
    buckets = {name: (values, steps(len(values), max_values))
               for name, values in grid.values.items()}
    x_step, y_step = buckets[x_name][1], buckets[y_name][1] if y_name else 1
    try:
        best = task_queries.best_by_pair(session=session, job_id=job.id, grid=grid,
                                         x_param=x_name, y_param=y_name, mode=mode,
                                         stamp=_stamp(job, reuse_rows), x_step=x_step,
                                         y_step=y_step, buckets=buckets)
    except AggregateTooLargeError as exc:
        cells = -(-len(x_all) // x_step) * max(1, -(-len(y_all) // y_step))
        shown = "at full resolution" if max(x_step, y_step) == 1 else "at this resolution"
        problem = (f"{cells:,} cells {shown} are more than can be aggregated here now; ask "
                   "with a smaller maxValues (e.g. 160) to group consecutive values")
        raise ValidationError(f"maxValues: {problem}",
                              details=[{"field": "maxValues", "problem": problem}]) from exc
    metric = str(policy.get("metric") or "")

    def named() -> Heatmap:
        params = grid.params_for(np.array([b.index for b in best], dtype=np.int64))
        return Heatmap(
            x=x_name, y=y_name, x_values=x_all[::x_step], y_values=y_all[::y_step],
            axes=varying(grid), metric=metric, mode=mode,
            cells=best, params={name: column.tolist() for name, column in params.items()},
            x_step=x_step, y_step=y_step, x_ends=_ends(x_all, x_step),
            y_ends=_ends(y_all, y_step),
        )

    # the same cells (pages of one running job between two reads) give the same heatmap
    return _HEATMAPS.get((job.id, x_name, y_name, x_step, y_step, mode, metric),
                         best, named)


def steps(count: int, max_values: int | None) -> int:
    """Values per column so that ``count`` values fit in ``max_values`` columns."""
    if not max_values or count <= max_values:
        return 1
    return -(-count // max_values)


def _ends(values: list[int | float], step: int) -> list[int | float]:
    """The last value of each group of ``step`` consecutive values."""
    return [values[min(k + step, len(values)) - 1] for k in range(0, len(values), step)]

"""Parameter stability of a job's Top-N: how its grid neighbours score.

A row on a plateau (neighbours score about as well) is more trustworthy than a spike (one
good combination among poor ones). With the policy's ``rankBy: "neighbourhoodMean"`` the
rows are ranked by their neighbours' mean score instead of their own."""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from typing import Any

import numpy as np
from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import NotFoundError
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import BacktestOptions
from optimizer_app.domain.grid import Grid, GridError, build_grid
from optimizer_app.domain.validation import (
    Window,
    fold_windows,
    in_sample_window,
    neighbour_scores,
    parse_validation,
    slice_bars,
)
from optimizer_app.orchestration.loading import JobCannotRun, load_bars
from optimizer_app.persistence import jobs
from optimizer_app.persistence.models import Dataset, JobStatus, OptimizationJob

RANK_BY_SCORE = "score"
RANK_BY_NEIGHBOURHOOD = "neighbourhoodMean"

_CACHE: OrderedDict[uuid.UUID, dict[str, Any]] = OrderedDict()  # ended jobs only
_CACHE_SIZE = 32
_LOCK = threading.Lock()


def _summarize(scores: list[float], mode: str) -> tuple[float | None, float | None]:
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if not finite:
        return None, None
    worst = min(finite) if mode == "max" else max(finite)
    return float(np.mean(finite)), float(worst)


def rank_rows(rows: list[dict[str, Any]], *, mode: str, rank_by: str) -> list[dict[str, Any]]:
    """Rows ordered by ``rank_by`` (rows without a neighbourhood mean last, then by rank)."""
    if rank_by != RANK_BY_NEIGHBOURHOOD:
        return rows
    sign = -1.0 if mode == "max" else 1.0

    def key(row: dict[str, Any]) -> tuple[int, float, int]:
        mean = row.get("neighbourMean")
        return (1, 0.0, row["rank"]) if mean is None else (0, sign * mean, row["rank"])

    return sorted(rows, key=key)


def compute_stability(job: OptimizationJob) -> dict[str, Any]:
    policy = job.early_stop_policy or {}
    metric, mode = str(policy.get("metric") or "sharpe"), str(policy.get("mode") or "max")
    rank_by = str(policy.get("rankBy") or RANK_BY_SCORE)
    total = int((job.summary or {}).get("total") or 0)
    try:
        grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, total))
    except GridError as exc:
        raise NotFoundError(f"the grid of job {job.id} cannot be rebuilt: {exc.message}") from exc
    return {"grid": grid, "metric": metric, "mode": mode, "rankBy": rank_by}


def _neighbours(job: OptimizationJob, bars: Bars, grid: Grid, indices: list[int], *,
                metric: str) -> list[dict[str, Any]]:
    """Each combination's neighbour scores, on the bars the job scored it on: in sample,
    or (walk-forward) its fold's training window, neighbours within the same fold."""
    spec = parse_validation(job.validation) if job.validation else None
    options = BacktestOptions.model_validate(job.backtest_options or {})
    windows = fold_windows(spec, len(bars))
    if not windows:
        window = in_sample_window(spec, bars.dates)
        windows = [(window.start, window.stop)]
    by_fold: dict[int, list[int]] = {}
    for index in indices:
        by_fold.setdefault(index // grid.total, []).append(index)
    found: dict[int, dict[str, Any]] = {}
    for fold, members in by_fold.items():
        start, stop = windows[min(fold, len(windows) - 1)]
        part = slice_bars(bars, Window(start, stop))
        offset = fold * grid.total
        for near in neighbour_scores(part, grid, [i - offset for i in members], metric=metric,
                                     options=options):
            index = int(near["index"]) + offset
            found[index] = {**near, "index": index,
                            "neighbours": [j + offset for j in near["neighbours"]]}
    return [found[i] for i in indices]


def get_stability(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
                  ) -> dict[str, Any]:
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    ended = JobStatus(job.status).is_terminal
    with _LOCK:
        if ended and job_id in _CACHE:
            return _CACHE[job_id]
    setup = compute_stability(job)
    try:
        bars = load_bars(session.get(Dataset, job.dataset_id))
    except JobCannotRun as exc:
        raise NotFoundError(str(exc)) from exc
    top = list((job.summary or {}).get("topN") or [])
    found = _neighbours(job, bars, setup["grid"], [int(e["index"]) for e in top],
                        metric=setup["metric"])
    rows = []
    for rank, (entry, near) in enumerate(zip(top, found, strict=True), start=1):
        mean, worst = _summarize(near["scores"], setup["mode"])
        rows.append({"rank": rank, "index": int(entry["index"]), "params": entry["params"],
                     "score": entry.get("score"), "neighbours": len(near["neighbours"]),
                     "neighbourMean": mean, "neighbourWorst": worst})
    ordered = rank_rows(rows, mode=setup["mode"], rank_by=setup["rankBy"])
    answer = {"jobId": str(job.id), "metric": setup["metric"], "mode": setup["mode"],
              "rankBy": setup["rankBy"], "data": ordered, "count": len(ordered)}
    if ended:
        with _LOCK:
            _CACHE[job_id] = answer
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return answer

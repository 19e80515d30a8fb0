"""One combination of a job: its parameters, metrics, equity curve against buy-and-hold and
its trades. A combination's stored row gives its status; its full backtest (one run of the
engine, the same numbers as the grid's) is computed on demand and cached, so any combination
of the grid can be inspected, in the Top-N or not."""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import NotFoundError
from optimizer_app.domain.constraints import parse_constraints, passes_one
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.engine import TRADE_COLUMNS, BacktestOptions, SingleResult, run_single
from optimizer_app.domain.grid import GridError, build_grid
from optimizer_app.domain.validation import (
    FoldedGrid,
    Window,
    fold_windows,
    job_grid,
    parse_validation,
    slice_bars,
)
from optimizer_app.orchestration.loading import JobCannotRun, in_sample_bars, load_bars
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence import tasks as task_queries
from optimizer_app.persistence.models import Dataset, OptimizationJob
from optimizer_app.services.schemas import CombinationPublic, EquityPublic, TradesPublic

MAX_INDEX_TEXT = 19  # digits: anything longer names no combination


@dataclass(frozen=True)
class Combination:
    job: OptimizationJob
    index: int
    params: dict[str, Any]
    bars: Bars


def parse_index(raw: str) -> int:
    """A path's combination index; 404 for anything that is not a whole number ≥ 0."""
    text = raw.strip()
    if not text.isdigit() or len(text) > MAX_INDEX_TEXT:
        raise NotFoundError(f"combination {raw!r} not found; indices are whole numbers from 0")
    return int(text)


def _open(session: Session, owner_id: uuid.UUID, job_id: uuid.UUID, index: int) -> Combination:
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    total = int((job.summary or {}).get("total") or 0)
    try:
        grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, total))
        spec = parse_validation(job.validation) if job.validation else None
        grid = job_grid(grid, spec)  # a walk-forward job runs the grid once per fold
    except GridError as exc:
        raise NotFoundError(f"the grid of job {job_id} cannot be rebuilt: {exc.message}") from exc
    if not 0 <= index < grid.total:
        raise NotFoundError(
            f"combination {index} not found; this job's grid has indices 0 to {grid.total - 1:,}"
        )
    try:
        # each combination on the bars the job scored it on: in sample, or its fold's
        # training window
        bars = in_sample_bars(load_bars(session.get(Dataset, job.dataset_id)), job.validation)
    except JobCannotRun as exc:
        raise NotFoundError(str(exc)) from exc
    if isinstance(grid, FoldedGrid):
        start, stop = fold_windows(spec, len(bars))[index // grid.fold_size]
        bars = slice_bars(bars, Window(start, stop))
    return Combination(job, index, dict(grid.params_at(index)), bars)


_CACHE: OrderedDict[tuple[uuid.UUID, int], SingleResult] = OrderedDict()
_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()


def _run(combination: Combination) -> SingleResult:
    """One backtest, cached per job and combination (a job's inputs never change)."""
    key = (combination.job.id, combination.index)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    job = combination.job
    result = run_single(combination.bars, job.strategy, combination.params,
                        BacktestOptions.model_validate(job.backtest_options or {}))
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def get_combination(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID, index: int
                    ) -> CombinationPublic:
    combination = _open(session, owner_id, job_id, index)
    job = combination.job
    task = task_queries.get_task_at(session=session, job_id=job_id, index=index)
    metric = str((job.early_stop_policy or {}).get("metric") or "sharpe")
    if task is not None and task.status == "failed":
        return CombinationPublic(index=index, params=combination.params, status="failed",
                                 score=None, metrics=None, passes_constraints=None, rank=None,
                                 error=task.error)
    if task is not None:
        status = task.status
    else:  # every finished combination is in the results store
        stored = results_store.row_at(
            results_store.job_results(session=session, job_id=job_id), index)
        status = stored["status"] if stored is not None else "not_run"
    metrics = {k: _clean(v) for k, v in _run(combination).metrics.items()}
    passes = passes_one(metrics, parse_constraints(job.constraints or []))
    ranked = [int(entry.get("index", -1)) for entry in (job.summary or {}).get("topN") or []]
    return CombinationPublic(
        index=index,
        params=combination.params,
        status=status,
        score=metrics.get(metric) if passes else None,
        metrics=metrics,
        passes_constraints=passes,
        rank=ranked.index(index) + 1 if index in ranked else None,
    )


def get_equity(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID, index: int
               ) -> EquityPublic:
    combination = _open(session, owner_id, job_id, index)
    result = _run(combination)
    bars = combination.bars
    cash = float((combination.job.backtest_options or {}).get("initialCash") or
                 BacktestOptions().initial_cash)
    benchmark = cash * bars.close / bars.close[0]
    equity = np.asarray(result.equity, dtype=np.float64)
    peak = np.maximum.accumulate(equity)
    with np.errstate(invalid="ignore", divide="ignore"):
        drawdown = np.where(peak > 0, 1.0 - equity / peak, 0.0)
    return EquityPublic(
        dates=[d.decode("ascii") for d in bars.date_texts],
        equity=[_clean(v) for v in equity.tolist()],
        benchmark=[_clean(v) for v in benchmark.tolist()],
        drawdown=[_clean(v) for v in drawdown.tolist()],
    )


def equity_csv(equity: EquityPublic) -> bytes:
    rows = zip(equity.dates, equity.equity, equity.benchmark, equity.drawdown, strict=True)
    lines = ["date,equity,benchmark,drawdown"]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def get_trades(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID, index: int,
               limit: int | None = None, offset: int = 0) -> TradesPublic:
    combination = _open(session, owner_id, job_id, index)
    result = _run(combination)
    position = {d.decode("ascii"): i for i, d in enumerate(combination.bars.date_texts)}
    rows = []
    for trade in result.trades:
        row = {k: _clean(trade.get(k)) for k in TRADE_COLUMNS}
        row["bars"] = position.get(str(trade["exitDate"]), 0) - position.get(
            str(trade["entryDate"]), 0)
        rows.append(row)
    page = rows[offset:] if limit is None else rows[offset : offset + limit]
    return TradesPublic(data=page, count=len(rows))


def trades_csv(trades: TradesPublic) -> bytes:
    columns = [*TRADE_COLUMNS, "bars"]
    lines = [",".join(columns)]
    lines += [",".join("" if t.get(c) is None else str(t.get(c)) for c in columns)
              for t in trades.data]
    return ("\n".join(lines) + "\n").encode("utf-8")

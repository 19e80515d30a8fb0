"""Opening a claimed job: its dataset, grid, policy and what is already written."""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError as PydanticValidationError

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.domain.bitmask import BitMask
from optimizer_app.domain.datasets import Bars, DatasetError, parse_csv
from optimizer_app.domain.grid import GridError, build_grid
from optimizer_app.domain.order import PendingOrder
from optimizer_app.domain.policy import EarlyStopPolicy
from optimizer_app.domain.subset import decode_subset
from optimizer_app.domain.validation import (
    FoldedGrid,
    fold_windows,
    in_sample_window,
    job_grid,
    parse_validation,
    slice_bars,
)
from optimizer_app.orchestration.board import Board
from optimizer_app.orchestration.folds import FoldBoards
from optimizer_app.orchestration.jobrun import ChunkSizer, JobRun
from optimizer_app.orchestration.leases import ClaimedJob
from optimizer_app.orchestration.sharing import worker_share
from optimizer_app.persistence import results_store, tasks
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset


class JobCannotRun(Exception):
    """The job itself cannot run (its dataset file is gone, its stored spec is invalid)."""


def load_bars(dataset: Dataset | None) -> Bars:
    if dataset is None:
        raise JobCannotRun("the job's dataset no longer exists")
    path = Path(dataset.storage_path)
    if not path.is_absolute():
        path = settings.data_dir / path
    try:
        stat = path.stat()
        return _parsed(str(path), stat.st_size, stat.st_mtime_ns, dataset.name)
    except OSError as exc:
        raise JobCannotRun(f"the dataset file of {dataset.name!r} is missing or unreadable") from exc


@lru_cache(maxsize=8)
def _parsed(path: str, size: int, mtime_ns: int, name: str) -> Bars:
    """A dataset file parsed once per version (size and modification time) for every job
    that uses it (~10 ms each time otherwise)."""
    data = Path(path).read_bytes()
    try:
        return parse_csv(data, max_bytes=max(len(data), 1))
    except DatasetError as exc:
        raise JobCannotRun(f"the dataset file of {name!r} is invalid: {exc.message}") from exc


def _subset(blob: bytes | None, total: int) -> np.ndarray | None:
    if blob is None:
        return None
    try:
        subset = decode_subset(blob)
    except (ValueError, zlib.error) as exc:
        raise JobCannotRun(f"the job's list of combinations is unreadable: {exc}") from exc
    if subset.size and (subset[0] < 0 or subset[-1] >= total):
        raise JobCannotRun("the job's list of combinations does not fit its grid")
    return subset


def in_sample_bars(bars: Bars, validation: dict[str, Any] | None) -> Bars:
    """The bars a job's grid is scored on: without its hold-out (JobCannotRun when the stored
    settings no longer fit the dataset)."""
    if not validation:
        return bars
    try:
        window = in_sample_window(parse_validation(validation), bars.dates)
    except (PydanticValidationError, ValueError) as exc:
        raise JobCannotRun(f"the job's validation settings do not fit its dataset: {exc}"
                           ) from exc
    return bars if window.bars == len(bars) else slice_bars(bars, window)


def open_run(claimed: ClaimedJob, *, chunk_target_seconds: float) -> JobRun:
    """Everything an orchestrator needs in memory to run ``claimed`` (raise JobCannotRun)."""
    try:
        policy = EarlyStopPolicy.model_validate(claimed.early_stop_policy)
        total_hint = int(claimed.summary.get("total") or 0)
        grid = build_grid(
            claimed.strategy, claimed.param_space, cap=max(settings.grid_cap, total_hint)
        )
    except (PydanticValidationError, GridError) as exc:
        raise JobCannotRun(f"the job's stored specification is invalid: {exc}") from exc
    with session_scope(readonly=True) as session:
        bars = load_bars(session.get(Dataset, claimed.dataset_id))
        bars = in_sample_bars(bars, claimed.validation)
        spec = parse_validation(claimed.validation) if claimed.validation else None
        grid = job_grid(grid, spec)
        files = results_store.job_results(session=session, job_id=claimed.id)
        share = worker_share(session=session, owner_id=claimed.owner_id)
    stored, succeeded, failed = (results_store.stored_indices(files.paths) if claimed.resumed
                                 else (np.zeros(0, dtype=np.int64), 0, 0))
    counts = {"succeeded": succeeded, "failed": failed}
    subset = _subset(claimed.combination_subset, grid.total)
    done = BitMask(grid.total, fill=subset is not None)
    if subset is not None:
        done[subset] = False  # only the subset is to run (in the grid's order)
    if len(stored):
        done[stored] = True
    board = Board.from_summary(
        claimed.summary, mode=policy.mode, top_n=policy.top_n,
        total=grid.total if subset is None else len(subset),
    )
    if len(stored) and board.done != len(stored):
        logger.bind(job_id=str(claimed.id), summary=board.done, stored=len(stored)).warning(
            "summary counts differ from stored tasks; using the stored counts"
        )
        board.finished = counts.get("succeeded", 0)
        board.failed = counts.get("failed", 0)
        with session_scope(readonly=True) as session:
            board.failures = tasks.failure_counts(session=session, job_id=claimed.id)
    if isinstance(grid, FoldedGrid):  # walk-forward: the stop rules apply per fold
        raw_folds = (claimed.summary or {}).get("folds")
        board.folds = (
            FoldBoards.from_json(raw_folds, size=grid.fold_size, mode=policy.mode) if raw_folds
            else FoldBoards.empty(size=grid.fold_size, count=grid.total // grid.fold_size,
                                  mode=policy.mode))
        for k, fold in enumerate(board.folds.folds):
            if fold.stopped:  # what it withdrew stays withdrawn
                done[k * grid.fold_size:(k + 1) * grid.fold_size] = True
    return JobRun(
        job_id=claimed.id,
        strategy=claimed.strategy,
        raw_space=claimed.param_space,
        options=claimed.backtest_options,
        policy=policy,
        grid=grid,
        bars=bars,
        board=board,
        created_at=claimed.created_at,
        started=claimed.started_at is not None,
        sizer=ChunkSizer(target=chunk_target_seconds),
        done=done,
        todo=PendingOrder(grid.total, claimed.grid_order, claimed.seed, done),
        constraints=claimed.constraints,
        subset=subset,
        owner_id=claimed.owner_id,
        worker_share=share,
        fold_size=grid.fold_size if isinstance(grid, FoldedGrid) else 0,
        windows=fold_windows(spec, len(bars)),
    )

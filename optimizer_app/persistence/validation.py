"""Query functions for a job's validation results (columns of ``optimization_jobs``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from optimizer_app.persistence import results_store
from optimizer_app.persistence.models import TERMINAL_STATUSES, OptimizationJob

PENDING = "pending"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class PendingValidation:
    """A job that ended and whose out-of-sample results are still to be computed."""

    id: uuid.UUID
    strategy: str
    dataset_id: uuid.UUID
    param_space: dict[str, Any]
    early_stop_policy: dict[str, Any]
    backtest_options: dict[str, Any]
    constraints: list[dict[str, Any]]
    validation: dict[str, Any]
    summary: dict[str, Any]


def pending_validations(*, session: Session, limit: int,
                        exclude: set[uuid.UUID] | None = None) -> list[PendingValidation]:
    """Ended jobs (any terminal status) whose validation is still pending, oldest first."""
    stmt = (
        select(OptimizationJob)
        .where(col(OptimizationJob.validation_state) == PENDING,
               col(OptimizationJob.status).in_([s.value for s in TERMINAL_STATUSES]))
        .order_by(col(OptimizationJob.finished_at))
        .limit(limit + len(exclude or ()))
    )
    found = []
    for job in session.exec(stmt):
        if exclude and job.id in exclude:
            continue
        found.append(PendingValidation(
            id=job.id, strategy=job.strategy, dataset_id=job.dataset_id,
            param_space=dict(job.param_space), early_stop_policy=dict(job.early_stop_policy),
            backtest_options=dict(job.backtest_options),
            constraints=list(job.constraints or []), validation=dict(job.validation or {}),
            summary=dict(job.summary or {}),
        ))
    return found[:limit]


def store_validation(*, session: Session, job_id: uuid.UUID, state: str,
                     result: dict[str, Any] | None) -> bool:
    """Write the results (or progress, with ``state`` pending) if still pending; whether it
    was written (a deleted job, or results another orchestrator wrote, are left alone)."""
    stmt = (
        update(OptimizationJob)
        .where(col(OptimizationJob.id) == job_id,
               col(OptimizationJob.validation_state) == PENDING)
        .values(validation_state=state, validation_result=result)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def best_in_range(*, session: Session, job_id: uuid.UUID, start: int, stop: int, mode: str
                  ) -> int | None:
    """The combination index in ``start..stop-1`` with the best stored score (a row failing
    a result constraint has none), the lowest index among equal scores; None if none."""
    results = results_store.job_results(session=session, job_id=job_id)
    return results_store.best_in_range(results, start, stop, maximize=mode == "max")


def done_by_fold(*, session: Session, job_id: uuid.UUID, fold_size: int) -> dict[int, int]:
    """How many combinations of each fold have a stored result (finished or failed)."""
    results = results_store.job_results(session=session, job_id=job_id)
    return results_store.counts_by_block(results, fold_size)


def score_sample(*, session: Session, job_id: uuid.UUID, limit: int) -> list[tuple[int, float]]:
    """Up to ``limit`` scored combinations (index, score) spread evenly over the job's stored
    rows in index order (a sample of the whole grid, the same one every time)."""
    results = results_store.job_results(session=session, job_id=job_id)
    return results_store.score_sample(results, limit)

"""The usage ledger's side of a job's life: a row when it is submitted (in the submit's own
transaction), closed when the job ends (after the terminal commit: combinations run, compute
seconds, bytes stored), and its storage released when the job is deleted."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from optimizer_app.core.logging import logger
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.persistence import results_store
from optimizer_app.persistence import usage as usage_queries
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import OptimizationJob, UsageRecord

# What one stored combination takes in the results store once its job is compacted (its row
# best first, in index order, and its share of the pair aggregates: ~6-13 bytes measured with
# benchmarks/storage.py), with a margin; the estimate behind the storage reserved at submit
# and shown before submit. A finished job's own files are measured.
ROW_BYTES = 16
ARTIFACT_BYTES = 40_000  # a Top-N combination's equity curve and trade list, when not measured


def reserved_bytes(combinations: int) -> int:
    """The storage a job of ``combinations`` is expected to take when it completes."""
    return max(0, combinations) * ROW_BYTES


def open_record(*, session: Session, job: OptimizationJob, combinations: int,
                dataset_rows: int) -> None:
    """The ledger row of a job being submitted (the caller's transaction)."""
    usage_queries.add_record(session=session, record=UsageRecord(
        job_id=job.id, owner_id=job.owner_id, strategy=job.strategy, dataset_rows=dataset_rows,
        combinations=combinations, stored_bytes=reserved_bytes(combinations),
        created_at=job.created_at,
    ))


def close_record(job: OptimizationJob, *, session: Session | None = None) -> None:
    """Record what a job that just ended used. Without ``session`` (after the terminal
    commit) its artifact files are measured before a short write of its own; in the caller's
    open transaction (a cancel) no file is read and the artifacts are estimated. A failure is
    logged and never reaches the caller."""
    summary = job.summary or {}
    done = int(summary.get("finished") or 0) + int(summary.get("failed") or 0)

    def end(session: Session, stored: int) -> None:
        usage_queries.end_record(
            session=session, job_id=job.id, combinations_run=done,
            compute_seconds=float(job.exec_seconds or 0.0), stored=stored,
            ended_at=job.finished_at,
        )

    try:
        if session is not None:
            end(session, reserved_bytes(done) + len(summary.get("topN") or []) * ARTIFACT_BYTES)
            return
        with session_scope(readonly=True) as read:
            results = results_store.job_results(session=read, job_id=job.id).bytes
        stored = results + get_artifact_store().job_bytes(job.id)
        with session_scope() as own:
            end(own, stored)
    except Exception as exc:  # noqa: BLE001 - the job's own status is already written
        logger.bind(job_id=str(job.id), error=str(exc)).warning("usage of the job not recorded")


def release_storage(*, session: Session, job_id: uuid.UUID) -> None:
    """The job's results are being deleted (the caller's transaction)."""
    usage_queries.release_storage(session=session, job_id=job_id)

"""Removing a job for good (its tasks, results files, artifacts and row), the retention rule
that does so for old finished jobs, and the sweep of folders left by no job. Every step is a
short transaction: rows go ``DELETE_SLICE_ROWS`` at a time, so a writer waiting behind it
waits milliseconds."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.orchestration.usage import release_storage
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence import tasks as task_queries
from optimizer_app.persistence.db import release_free_pages, session_scope
from optimizer_app.persistence.models import TERMINAL_STATUSES, OptimizationJob, utcnow

DELETE_SLICE_ROWS = 4_096  # task rows per delete transaction
RETENTION_BATCH = 20  # old jobs removed per retention pass
# A job folder (artifacts or results) whose job does not exist is removed once untouched this
# long: a worker that finishes a chunk after its job was deleted can make the folder again.
ORPHAN_AGE_SECONDS = 3600.0
_IDS_PER_QUERY = 500


def purge_job(job_id: uuid.UUID) -> None:
    """Remove a job that no longer runs (terminal): rows in slices, then its artifacts and
    its own row; on SQLite the freed pages go back to the disk. Safe to repeat."""
    while True:
        with session_scope() as session:
            if not task_queries.delete_task_slice(session=session, job_id=job_id,
                                                  limit=DELETE_SLICE_ROWS):
                break
    get_artifact_store().delete_job(job_id)
    with session_scope() as session:
        results_store.forget_job(session=session, job_id=job_id)
        release_storage(session=session, job_id=job_id)
        jobs.delete_job_row(session=session, job_id=job_id)
    results_store.remove_job(job_id)
    released = release_free_pages()
    logger.bind(job_id=str(job_id), pages_released=released).info("job removed")


def apply_retention(days: float | None) -> int:
    """Remove up to ``RETENTION_BATCH`` finished jobs (any terminal status) that ended more
    than ``days`` ago; return how many. Nothing when retention is off (None)."""
    if not days:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    with session_scope(readonly=True) as session:
        old = session.exec(
            select(OptimizationJob.id)
            .where(col(OptimizationJob.status).in_([s.value for s in TERMINAL_STATUSES]),
                   col(OptimizationJob.updated_at) < cutoff)
            .limit(RETENTION_BATCH)
        ).all()
    for job_id in old:
        purge_job(job_id)
    if old:
        logger.bind(jobs=len(old), days=days).info("old jobs removed (retention)")
    return len(old)


def _job_folders(min_age_seconds: float) -> Iterator[tuple[uuid.UUID, Path]]:
    """(job id, folder) of every job folder in the artifact and results folders untouched for
    ``min_age_seconds``."""
    cutoff = time.time() - min_age_seconds
    for root in (settings.resolved_artifact_dir, results_store.root()):
        try:
            entries = list(root.iterdir())
        except OSError:  # not made yet
            continue
        for path in entries:
            try:
                job_id = uuid.UUID(path.name)
                if path.is_dir() and path.stat().st_mtime <= cutoff:
                    yield job_id, path
            except (ValueError, OSError):  # not a job folder, or gone meanwhile
                continue


def sweep_orphans(*, min_age_seconds: float = ORPHAN_AGE_SECONDS) -> int:
    """Remove job folders (artifacts, results) of jobs that no longer exist, once untouched
    for ``min_age_seconds``; return how many. Reads in one short read transaction per
    ``_IDS_PER_QUERY`` folders, removes outside any."""
    folders = list(_job_folders(min_age_seconds))
    gone: list[Path] = []
    for start in range(0, len(folders), _IDS_PER_QUERY):
        part = folders[start:start + _IDS_PER_QUERY]
        with session_scope(readonly=True) as session:
            existing = set(session.exec(
                select(OptimizationJob.id)
                .where(col(OptimizationJob.id).in_({job_id for job_id, _ in part}))
            ).all())
        gone.extend(path for job_id, path in part if job_id not in existing)
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    if gone:
        logger.bind(folders=len(gone)).info("folders of deleted jobs removed")
    return len(gone)

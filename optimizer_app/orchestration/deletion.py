"""Removing a job for good (its tasks, results files, artifacts and row), the retention rule
that does so for old finished jobs, and the sweep of folders a late chunk made for a deleted
job. Every step is a short transaction: rows go ``DELETE_SLICE_ROWS`` at a time, so a writer
waiting behind it waits milliseconds."""

from __future__ import annotations

import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from optimizer_app.core.logging import logger
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.orchestration.usage import release_storage
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence import tasks as task_queries
from optimizer_app.persistence.db import release_free_pages, session_scope
from optimizer_app.persistence.models import TERMINAL_STATUSES, OptimizationJob, utcnow

DELETE_SLICE_ROWS = 4_096  # task rows per delete transaction
RETENTION_BATCH = 20  # old jobs removed per retention pass
# A worker that finishes a chunk after its job was deleted can make the job's folders again
# (results, artifacts). Deleting a job leaves a tombstone (an empty file named by its id in
# the results folder's ``.deleted``); such folders go once untouched this long, and the
# tombstone after a day.
ORPHAN_AGE_SECONDS = 3600.0
TOMBSTONE_SECONDS = 86_400.0
TOMBSTONES = ".deleted"


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
    _mark_deleted(job_id)
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


def _job_folders(job_id: uuid.UUID) -> list[Path]:
    """The job's folder in the results store, and in the artifact store when it is local."""
    artifacts = get_artifact_store().worker_folder(job_id)
    return [results_store.job_dir(job_id), *([artifacts] if artifacts is not None else [])]


def _tombstones() -> Path:
    return results_store.root() / TOMBSTONES


def _mark_deleted(job_id: uuid.UUID) -> None:
    """Leave the job's tombstone: the sweep may remove its folders if a late chunk makes them
    again (and only then: a folder of a job this app did not delete is never touched)."""
    try:
        folder = _tombstones()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / str(job_id)).touch()
    except OSError as exc:  # the job is gone all the same; a late folder would stay
        logger.bind(job_id=str(job_id), error=str(exc)).warning("tombstone not written")


def sweep_orphans(*, min_age_seconds: float = ORPHAN_AGE_SECONDS) -> int:
    """Remove the folders (artifacts, results) a late chunk made again for a job deleted here
    (one with a tombstone), once untouched for ``min_age_seconds``; tombstones go after
    ``TOMBSTONE_SECONDS``. Returns how many folders were removed. No database work."""
    now = time.time()
    try:
        marks = list(_tombstones().iterdir())
    except OSError:  # nothing deleted yet
        return 0
    removed = 0
    for mark in marks:
        try:
            job_id = uuid.UUID(mark.name)
            marked_at = mark.stat().st_mtime
        except (ValueError, OSError):
            continue
        for folder in _job_folders(job_id):
            try:
                if folder.is_dir() and folder.stat().st_mtime <= now - min_age_seconds:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
        if marked_at <= now - TOMBSTONE_SECONDS:
            mark.unlink(missing_ok=True)
    if removed:
        logger.bind(folders=removed).info("folders of deleted jobs removed")
    return removed

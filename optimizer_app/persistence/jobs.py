"""Query functions for optimization jobs: create, read, leases and the live-status poll.

Row locks (``FOR UPDATE`` / ``SKIP LOCKED``) apply on PostgreSQL; SQLite ignores them, and its
writers are serialized by the ``BEGIN IMMEDIATE`` every write transaction starts with."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from optimizer_app.persistence.db import read_all, read_first
from optimizer_app.persistence.models import (
    LIVE_STATUSES,
    JobStatus,
    OptimizationJob,
    User,
)

_LIVE = [s.value for s in LIVE_STATUSES]


@dataclass(frozen=True)
class JobPoll:
    """What a job holder re-reads a few times a second."""

    id: uuid.UUID
    status: str
    cancel_requested: bool
    lease_owner: str | None


def insert_row(*, session: Session, row: Any) -> None:
    """INSERT a new model instance's row as a plain (Core) statement, without the ORM's unit
    of work, which cost a submit about as much as its validation. ``row`` is not attached to
    ``session``; every column is given its value (the instance's defaults were applied when
    it was made)."""
    model: Any = type(row)
    statement, columns = _plain_insert(model)
    session.execute(statement, {column: getattr(row, key) for key, column in columns})


@functools.cache
def _plain_insert(model: Any) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """The model's table INSERT, and its (attribute, column) names."""
    mapper: Any = sa_inspect(model)
    columns = tuple((attribute.key, attribute.columns[0].key) for attribute in mapper.column_attrs)
    return insert(mapper.local_table), columns


def add_job(*, session: Session, job: OptimizationJob) -> OptimizationJob:
    """Insert a new job's row (``job`` stays detached: see :func:`insert_row`)."""
    insert_row(session=session, row=job)
    return job


def get_job(*, session: Session, job_id: uuid.UUID, for_update: bool = False) -> OptimizationJob | None:
    stmt = select(OptimizationJob).where(col(OptimizationJob.id) == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


# What a status poll reads: a few columns of one row, not the whole job (its parameter space,
# options and validation results are decoded for nothing otherwise). Built once: building a
# select per poll took about as long as running it.
_STATUS_QUERY = sa_select(
    col(OptimizationJob.status),
    col(OptimizationJob.summary),
    col(OptimizationJob.stop_reason),
    col(OptimizationJob.queue_wait_seconds),
    col(OptimizationJob.exec_seconds),
    col(OptimizationJob.updated_at),
).where(
    col(OptimizationJob.id) == bindparam("job_id"),  # (typed as the columns they compare with)
    col(OptimizationJob.owner_id) == bindparam("owner_id"),
)


def owned_job_status(*, job_id: uuid.UUID, owner_id: uuid.UUID) -> Any:
    """The status columns of the owner's job (a row with those attribute names), or None:
    one statement, outside any session (``db.read_first``)."""
    return read_first(_STATUS_QUERY, {"job_id": job_id, "owner_id": owner_id})


# The history page's refresh while jobs on it are live: their status, summary and policy
# (for the best score's metric), and how many jobs the owner has (a job added or deleted
# elsewhere changes the page). Built once, as the status query.
_PROGRESS_QUERY = sa_select(
    col(OptimizationJob.id),
    col(OptimizationJob.status),
    col(OptimizationJob.summary),
    col(OptimizationJob.early_stop_policy),
    sa_select(func.count())
    .select_from(OptimizationJob)
    .where(col(OptimizationJob.owner_id) == bindparam("owner_id"))
    .scalar_subquery()
    .label("jobs"),
).where(
    col(OptimizationJob.owner_id) == bindparam("owner_id"),
    col(OptimizationJob.id).in_(bindparam("job_ids", expanding=True)),
)


def owned_jobs_progress(*, owner_id: uuid.UUID, job_ids: list[uuid.UUID]) -> list[Any]:
    """For each of the owner's jobs among ``job_ids`` a row (``id``, ``status``,
    ``summary``, ``early_stop_policy``, and ``jobs``: how many jobs the owner has): one
    statement, outside any session."""
    if not job_ids:
        return []
    return read_all(_PROGRESS_QUERY, {"owner_id": owner_id, "job_ids": job_ids})


def get_owned_job(
    *, session: Session, job_id: uuid.UUID, owner_id: uuid.UUID, for_update: bool = False
) -> OptimizationJob | None:
    stmt = select(OptimizationJob).where(
        col(OptimizationJob.id) == job_id, col(OptimizationJob.owner_id) == owner_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


_LOCK_OWNER = select(User.id).where(col(User.id) == bindparam("owner_id")).with_for_update()


def lock_owner(*, session: Session, owner_id: uuid.UUID) -> None:
    """Serialize one user's submissions: a row lock on PostgreSQL; nothing to do on SQLite,
    where a write transaction already holds the one write lock."""
    if session.get_bind().dialect.name != "sqlite":
        session.exec(_LOCK_OWNER, params={"owner_id": owner_id}).first()


def live_jobs_count(owner_id: Any) -> Any:
    """The statement counting the owner's queued and running jobs (``owner_id``: a value or
    a bind parameter)."""
    return (
        select(func.count())
        .select_from(OptimizationJob)
        .where(col(OptimizationJob.owner_id) == owner_id, col(OptimizationJob.status).in_(_LIVE))
    )


def count_live_jobs(*, session: Session, owner_id: uuid.UUID) -> int:
    return int(session.exec(live_jobs_count(owner_id)).one())


def _claimable_where(now: datetime, also: list[uuid.UUID]) -> Any:
    conditions: list[Any] = [
        col(OptimizationJob.status) == JobStatus.QUEUED.value,
        and_(
            col(OptimizationJob.status) == JobStatus.RUNNING.value,
            or_(
                col(OptimizationJob.lease_expires_at).is_(None),
                col(OptimizationJob.lease_expires_at) < now,
            ),
        ),
    ]
    if also:
        conditions.append(
            and_(
                col(OptimizationJob.status) == JobStatus.RUNNING.value,
                col(OptimizationJob.id).in_(also),
            )
        )
    return or_(*conditions)


def has_claimable(
    *,
    session: Session,
    now: datetime,
    also_ids: Iterable[uuid.UUID] = (),
    exclude: Iterable[uuid.UUID] = (),
) -> bool:
    """A cheap read-only look before taking the write lock to claim."""
    stmt = select(OptimizationJob.id).where(_claimable_where(now, list(also_ids)))
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(col(OptimizationJob.id).not_in(excluded))
    return session.exec(stmt.limit(1)).first() is not None


def claimable_jobs(
    *,
    session: Session,
    now: datetime,
    limit: int,
    exclude: Iterable[uuid.UUID] = (),
    also_ids: Iterable[uuid.UUID] = (),
) -> list[OptimizationJob]:
    """Queued jobs, running jobs whose lease has expired, and ``also_ids`` (running jobs whose
    holder is known to be gone), oldest first, locked for this transaction (rows another
    claimer holds are skipped)."""
    stmt = select(OptimizationJob).where(_claimable_where(now, list(also_ids)))
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(col(OptimizationJob.id).not_in(excluded))
    stmt = (
        stmt.order_by(col(OptimizationJob.created_at), col(OptimizationJob.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(stmt).all())


def leased_running_jobs(
    *, session: Session, owner_prefix: str
) -> list[tuple[uuid.UUID, str | None]]:
    """(id, lease owner) of running jobs whose lease owner starts with ``owner_prefix``."""
    stmt = select(OptimizationJob.id, OptimizationJob.lease_owner).where(
        col(OptimizationJob.status) == JobStatus.RUNNING.value,
        col(OptimizationJob.lease_owner).startswith(owner_prefix, autoescape=True),
    )
    return [(row[0], row[1]) for row in session.exec(stmt).all()]


def poll_jobs(*, session: Session, job_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, JobPoll]:
    ids = list(job_ids)
    if not ids:
        return {}
    stmt = select(
        OptimizationJob.id,
        OptimizationJob.status,
        OptimizationJob.cancel_requested,
        OptimizationJob.lease_owner,
    ).where(col(OptimizationJob.id).in_(ids))
    return {row[0]: JobPoll(*row) for row in session.exec(stmt).all()}


def renew_leases(
    *, session: Session, owner: str, job_ids: Iterable[uuid.UUID], until: datetime
) -> int:
    """Extend the lease of the running jobs ``owner`` still holds; return how many."""
    ids = list(job_ids)
    if not ids:
        return 0
    result = session.execute(
        update(OptimizationJob)
        .where(
            col(OptimizationJob.id).in_(ids),
            col(OptimizationJob.lease_owner) == owner,
            col(OptimizationJob.status) == JobStatus.RUNNING.value,
        )
        .values(lease_expires_at=until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release_leases(*, session: Session, owner: str, job_ids: Iterable[uuid.UUID]) -> int:
    """Give back the leases ``owner`` holds, so another orchestrator can take the jobs at once."""
    ids = list(job_ids)
    if not ids:
        return 0
    result = session.execute(
        update(OptimizationJob)
        .where(col(OptimizationJob.id).in_(ids), col(OptimizationJob.lease_owner) == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_job_row(*, session: Session, job_id: uuid.UUID) -> bool:
    """Delete the job's own row (its tasks must be gone); False when it was not there."""
    result = session.execute(delete(OptimizationJob).where(col(OptimizationJob.id) == job_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]

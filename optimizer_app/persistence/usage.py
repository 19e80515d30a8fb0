"""Query functions for the usage ledger (``usage_records``) and per-user quotas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, update
from sqlmodel import Session, col, func, select

from optimizer_app.persistence import jobs
from optimizer_app.persistence.models import (
    JobStatus,
    OptimizationJob,
    UsageRecord,
    User,
    UserQuota,
    utcnow,
)


@dataclass(frozen=True)
class UsageTotals:
    combinations_today: int
    combinations_this_month: int
    compute_seconds: float
    stored_bytes: int


def _charged() -> Any:
    """Combinations a job counts for: what it asked for while live, what it ran once ended."""
    return case(
        (col(UsageRecord.ended_at).is_(None), col(UsageRecord.combinations)),
        else_=func.coalesce(col(UsageRecord.combinations_run), 0),
    )


def add_record(*, session: Session, record: UsageRecord) -> None:
    """Insert a ledger row (a plain INSERT, as its job's: ``jobs.insert_row``)."""
    jobs.insert_row(session=session, row=record)


@dataclass(frozen=True)
class QuotaUsage:
    live_jobs: int
    charged_since: int
    stored_bytes: int


def _quota_usage_query() -> Any:
    owner_id: Any = bindparam("owner_id")  # (typed as the columns it is compared with)
    live = jobs.live_jobs_count(owner_id)
    charged = select(func.coalesce(func.sum(_charged()), 0)).where(
        col(UsageRecord.owner_id) == owner_id, col(UsageRecord.created_at) >= bindparam("since")
    )
    stored = select(func.coalesce(func.sum(UsageRecord.stored_bytes), 0)).where(
        col(UsageRecord.owner_id) == owner_id
    )
    return select(live.scalar_subquery(), charged.scalar_subquery(), stored.scalar_subquery())


# Built once: building it took longer than running it (each submit reads it).
_QUOTA_USAGE = _quota_usage_query()


def quota_usage(*, session: Session, owner_id: uuid.UUID, since: datetime) -> QuotaUsage:
    """What a submit's quota check reads, in one statement: the owner's queued and running
    jobs, combinations charged since ``since``, bytes stored."""
    row = session.execute(_QUOTA_USAGE, {"owner_id": owner_id, "since": since}).one()
    return QuotaUsage(int(row[0]), int(row[1]), int(row[2]))


def totals(*, session: Session, owner_id: uuid.UUID, day: datetime, month: datetime
           ) -> UsageTotals:
    """One user's usage: combinations charged since ``day`` and ``month``, compute seconds of
    jobs that ended since ``month``, bytes stored now."""
    month_rows = col(UsageRecord.created_at) >= month
    stmt = select(
        func.coalesce(func.sum(case((col(UsageRecord.created_at) >= day, _charged()), else_=0)),
                      0),
        func.coalesce(func.sum(case((month_rows, _charged()), else_=0)), 0),
        func.coalesce(func.sum(case((col(UsageRecord.ended_at) >= month,
                                     col(UsageRecord.compute_seconds)), else_=0.0)), 0.0),
        func.coalesce(func.sum(UsageRecord.stored_bytes), 0),
    ).where(col(UsageRecord.owner_id) == owner_id)
    today, this_month, seconds, stored = session.exec(stmt).one()
    return UsageTotals(int(today), int(this_month), float(seconds), int(stored))


def end_record(
    *, session: Session, job_id: uuid.UUID, combinations_run: int, compute_seconds: float,
    stored: int, ended_at: datetime | None = None,
) -> bool:
    """Close a job's ledger row when the job ended (once: a row already closed is kept)."""
    result = session.execute(
        update(UsageRecord)
        .where(col(UsageRecord.job_id) == job_id, col(UsageRecord.ended_at).is_(None))
        .values(combinations_run=combinations_run, compute_seconds=compute_seconds,
                stored_bytes=stored, ended_at=ended_at or utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_storage(*, session: Session, job_id: uuid.UUID) -> None:
    """The job's results are deleted: it stores nothing any more (the rest of its row stays)."""
    session.execute(
        update(UsageRecord).where(col(UsageRecord.job_id) == job_id).values(stored_bytes=0)
    )


def measured_costs(*, session: Session, strategy: str, limit: int = 20
                   ) -> list[tuple[float, int, int]]:
    """(compute seconds, combinations run, dataset rows) of the strategy's latest ended jobs
    that ran something."""
    stmt = (
        select(UsageRecord.compute_seconds, UsageRecord.combinations_run,
               UsageRecord.dataset_rows)
        .where(col(UsageRecord.strategy) == strategy, col(UsageRecord.ended_at).is_not(None),
               col(UsageRecord.compute_seconds) > 0, col(UsageRecord.combinations_run) > 0,
               col(UsageRecord.dataset_rows) > 0)
        .order_by(col(UsageRecord.ended_at).desc())
        .limit(limit)
    )
    return [(float(s), int(c or 0), int(r)) for s, c, r in session.exec(stmt).all()]


_QUOTA = select(UserQuota).where(col(UserQuota.user_id) == bindparam("user_id"))


def get_quota(*, session: Session, user_id: uuid.UUID) -> UserQuota | None:
    return session.exec(_QUOTA, params={"user_id": user_id}).first()


_ACCOUNT_QUOTA = (
    select(User.id, UserQuota)
    .outerjoin(UserQuota, col(UserQuota.user_id) == col(User.id))
    .where(col(User.id) == bindparam("user_id"))
)


def account_quota(*, session: Session, user_id: uuid.UUID) -> tuple[bool, UserQuota | None]:
    """Whether the account exists, and its quota row (None: none), in one statement."""
    row = session.exec(_ACCOUNT_QUOTA, params={"user_id": user_id}).first()
    return (False, None) if row is None else (True, row[1])


def put_quota(*, session: Session, quota: UserQuota) -> UserQuota:
    return session.merge(quota)


def quotas_for(*, session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, UserQuota]:
    if not user_ids:
        return {}
    rows = session.exec(select(UserQuota).where(col(UserQuota.user_id).in_(user_ids))).all()
    return {row.user_id: row for row in rows}


def list_users(*, session: Session, limit: int, offset: int) -> tuple[list[User], int]:
    count = int(session.exec(select(func.count()).select_from(User)).one())
    users = session.exec(
        select(User).order_by(col(User.email)).limit(limit).offset(offset)
    ).all()
    return list(users), count


# -- the queue --------------------------------------------------------------------------------


def queued_ahead(*, session: Session, created_at: datetime, job_id: uuid.UUID
                 ) -> tuple[int, int]:
    """(jobs, combinations) queued before this one in claim order (oldest first, then id)."""
    stmt = (
        select(func.count(), func.coalesce(func.sum(UsageRecord.combinations), 0))
        .select_from(OptimizationJob)
        .join(UsageRecord, col(UsageRecord.job_id) == col(OptimizationJob.id), isouter=True)
        .where(
            col(OptimizationJob.status) == JobStatus.QUEUED.value,
            or_(col(OptimizationJob.created_at) < created_at,
                and_(col(OptimizationJob.created_at) == created_at,
                     col(OptimizationJob.id) < job_id)),
        )
    )
    count, combinations = session.exec(stmt).one()
    return int(count), int(combinations)


@dataclass(frozen=True)
class RunningJob:
    total: int
    done: int
    started_at: datetime | None


def running_jobs(*, session: Session) -> list[RunningJob]:
    stmt = select(OptimizationJob.summary, OptimizationJob.started_at).where(
        col(OptimizationJob.status) == JobStatus.RUNNING.value
    )
    found = []
    for summary, started_at in session.exec(stmt).all():
        summary = summary or {}
        done = int(summary.get("finished") or 0) + int(summary.get("failed") or 0)
        found.append(RunningJob(int(summary.get("total") or 0), done, started_at))
    return found


def count_running(*, session: Session) -> int:
    stmt = select(func.count()).select_from(OptimizationJob).where(
        col(OptimizationJob.status) == JobStatus.RUNNING.value
    )
    return int(session.exec(stmt).one())

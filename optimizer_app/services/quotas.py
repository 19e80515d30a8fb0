"""Quotas: the limits that apply to a user (the deployment's defaults, or an admin's values
for that user) and the check a submit passes inside its short write transaction.

Limits of 0 (or null on the wire) mean no limit. Combinations are charged to the UTC day the
job was submitted: what a live job asked for, what an ended job ran (a job stopped early gives
back the rest). Stored bytes count results and artifacts of the user's jobs (a live job
reserves what it would store) and uploaded datasets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import QuotaExceededError
from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import QUOTA_REFUSALS
from optimizer_app.persistence import datasets as dataset_queries
from optimizer_app.persistence import usage as usage_queries
from optimizer_app.persistence.models import UserQuota
from optimizer_app.services.usage_schemas import QuotaProblem, QuotasPublic


@dataclass(frozen=True)
class Quotas:
    """Effective limits for one user (None: no limit)."""

    live_jobs: int | None
    combinations_per_day: int | None
    stored_bytes: int | None
    worker_share: float

    def public(self) -> QuotasPublic:
        return QuotasPublic(live_jobs=self.live_jobs,
                            combinations_per_day=self.combinations_per_day,
                            stored_bytes=self.stored_bytes, worker_share=self.worker_share)


def _limit(value: int | None, default: int) -> int | None:
    chosen = default if value is None else value
    return chosen if chosen > 0 else None


def effective(row: UserQuota | None) -> Quotas:
    """The limits of a user with this quota row (None: no row, the defaults throughout)."""
    live, per_day, stored, share = (
        (None, None, None, None) if row is None
        else (row.live_jobs, row.combinations_per_day, row.stored_bytes, row.worker_share)
    )
    return Quotas(
        live_jobs=_limit(live, settings.max_live_jobs_per_user),
        combinations_per_day=_limit(per_day, settings.quota_combinations_per_day),
        stored_bytes=_limit(stored, settings.quota_stored_bytes),
        worker_share=share if share is not None else settings.quota_worker_share,
    )


def quotas_of(*, session: Session, user_id: uuid.UUID) -> Quotas:
    return effective(usage_queries.get_quota(session=session, user_id=user_id))


def quotas_of_account(*, session: Session, user_id: uuid.UUID) -> Quotas | None:
    """:func:`quotas_of`, or None when there is no such account (one read for both)."""
    found, row = usage_queries.account_quota(session=session, user_id=user_id)
    return effective(row) if found else None


def day_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime | None = None) -> datetime:
    return day_start(now).replace(day=1)


def next_day(now: datetime | None = None) -> datetime:
    return day_start(now) + timedelta(days=1)


def dataset_bytes(*, session: Session, owner_id: uuid.UUID) -> int:
    """Bytes of the user's uploaded dataset files (a few stat calls; before any write lock)."""
    total = 0
    for path in dataset_queries.owned_dataset_paths(session=session, owner_id=owner_id):
        try:
            total += Path(path).stat().st_size
        except OSError:
            continue
    return total


@dataclass(frozen=True)
class Demand:
    """What a new job would add: combinations today, bytes stored."""

    combinations: int
    stored_bytes: int


def problems(*, session: Session, owner_id: uuid.UUID, quotas: Quotas, demand: Demand,
             datasets_bytes: int, now: datetime | None = None) -> list[QuotaProblem]:
    """The quotas a new job would exceed (empty: it fits). One aggregate read."""
    found: list[QuotaProblem] = []
    if (quotas.live_jobs, quotas.combinations_per_day, quotas.stored_bytes) == (None,) * 3:
        return found
    used = usage_queries.quota_usage(session=session, owner_id=owner_id, since=day_start(now))
    if quotas.live_jobs is not None:
        live = used.live_jobs
        if live + 1 > quotas.live_jobs:
            found.append(QuotaProblem(quota="liveJobs", limit=quotas.live_jobs, used=live))
    if quotas.combinations_per_day is not None:
        today = used.charged_since
        if today + demand.combinations > quotas.combinations_per_day:
            found.append(QuotaProblem(quota="combinationsPerDay",
                                      limit=quotas.combinations_per_day, used=today,
                                      resets_at=next_day(now)))
    if quotas.stored_bytes is not None:
        stored = used.stored_bytes + datasets_bytes
        if stored + demand.stored_bytes > quotas.stored_bytes:
            found.append(QuotaProblem(quota="storedBytes", limit=quotas.stored_bytes,
                                      used=stored))
    return found


_WHAT = {
    "liveJobs": "queued or running jobs",
    "combinationsPerDay": "combinations per day",
    "storedBytes": "bytes stored",
}


def _sentence(problem: QuotaProblem, demand: Demand) -> str:
    what = _WHAT.get(problem.quota, problem.quota)
    if problem.quota == "liveJobs":
        return (f"you already have {problem.used:,} {what} (the limit is {problem.limit:,}); "
                "wait for one to finish or cancel one")
    text = f"{problem.used:,} of your {problem.limit:,} {what} are used"
    if problem.quota == "combinationsPerDay":
        text += f" and this job has {demand.combinations:,}; the count resets at 00:00 UTC"
    else:
        text += f" and this job would store about {demand.stored_bytes:,}; delete old jobs"
    return text


def refuse(found: list[QuotaProblem], demand: Demand, *, owner_id: uuid.UUID) -> None:
    """Raise 429 ``quota_exceeded`` naming every quota the job would exceed."""
    for problem in found:
        QUOTA_REFUSALS.labels(quota=problem.quota).inc()
    logger.bind(user_id=str(owner_id), quotas=[p.quota for p in found]).info(
        "submit refused by a quota"
    )
    raise QuotaExceededError(
        "quota exceeded: " + "; ".join(_sentence(p, demand) for p in found),
        details=[p.dump() for p in found],
    )

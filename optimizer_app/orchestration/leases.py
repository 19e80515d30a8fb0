"""Lease owners and claims: which orchestrator holds which job.

An owner id is ``host:pid:started:token`` (``started``: the process start time in ms). A job
is claimable when it is queued, when its lease has expired, or at once when its holder is
provably gone: same host, and no process with that pid and start time runs any more."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psutil

from optimizer_app.orchestration.transitions import transition
from optimizer_app.persistence import jobs
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import JobStatus, utcnow

MAX_HELD_JOBS = 16  # jobs one orchestrator runs at once (the rest wait queued)


def _started_ms(process: psutil.Process) -> int:
    return int(process.create_time() * 1000)


def new_owner_id() -> str:
    host = socket.gethostname()[:50]
    started = _started_ms(psutil.Process())
    return f"{host}:{os.getpid()}:{started}:{uuid.uuid4().hex[:12]}"


def _parse(owner: str) -> tuple[str, int, int] | None:
    parts = owner.rsplit(":", 3)
    if len(parts) != 4:
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None


def holder_is_gone(owner: str | None, *, me: str) -> bool:
    """Whether the process named by ``owner`` provably no longer runs (same host only)."""
    if not owner or owner == me:
        return False
    theirs, mine = _parse(owner), _parse(me)
    if theirs is None or mine is None or theirs[0] != mine[0]:
        return False
    _, pid, started = theirs
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        return abs(_started_ms(process) - started) > 1  # that pid is another process now
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


@dataclass(frozen=True)
class ClaimedJob:
    """The fields of a claimed job an orchestrator needs (detached from any session)."""

    id: uuid.UUID
    strategy: str
    dataset_id: uuid.UUID
    param_space: dict[str, Any]
    early_stop_policy: dict[str, Any]
    backtest_options: dict[str, Any]
    summary: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    resumed: bool
    constraints: list[dict[str, Any]] = field(default_factory=list)
    grid_order: str = "sequential"
    seed: int | None = None
    combination_subset: bytes | None = None  # only these grid indices run (domain.subset)
    owner_id: uuid.UUID | None = None
    validation: dict[str, Any] | None = None


def _host_prefix(me: str) -> str:
    parsed = _parse(me)
    return f"{parsed[0]}:" if parsed else me


def claim_jobs(
    *, owner: str, limit: int, lease_seconds: float, exclude: set[uuid.UUID]
) -> list[ClaimedJob]:
    """Claim up to ``limit`` jobs for ``owner`` in one transaction (``FOR UPDATE SKIP
    LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), oldest first."""
    if limit <= 0:
        return []
    now = utcnow()
    with session_scope(readonly=True) as session:
        leased_here = jobs.leased_running_jobs(session=session, owner_prefix=_host_prefix(owner))
        gone = [job_id for job_id, holder in leased_here if holder_is_gone(holder, me=owner)]
        if not jobs.has_claimable(session=session, now=now, also_ids=gone, exclude=exclude):
            return []
    claimed: list[ClaimedJob] = []
    with session_scope() as session:
        rows = jobs.claimable_jobs(
            session=session, now=now, limit=limit, exclude=exclude, also_ids=gone
        )
        for job in rows:
            resumed = job.status == JobStatus.RUNNING.value
            if not resumed:
                transition(job, JobStatus.RUNNING, now=now)
            job.lease_owner = owner
            job.lease_expires_at = now + timedelta(seconds=lease_seconds)
            session.add(job)
            claimed.append(
                ClaimedJob(
                    id=job.id,
                    strategy=job.strategy,
                    dataset_id=job.dataset_id,
                    param_space=dict(job.param_space),
                    early_stop_policy=dict(job.early_stop_policy),
                    backtest_options=dict(job.backtest_options),
                    summary=dict(job.summary or {}),
                    created_at=job.created_at,
                    started_at=job.started_at,
                    resumed=resumed,
                    constraints=list(job.constraints or []),
                    grid_order=job.grid_order,
                    seed=job.seed,
                    combination_subset=job.combination_subset,
                    owner_id=job.owner_id,
                    validation=job.validation,
                )
            )
    return claimed

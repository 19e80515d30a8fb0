"""The queue as a user sees it: why a queued job waits and when it should start, a running
job's share of the workers, and what a job would take before it is submitted.

Rates come from the usage ledger: a strategy's cost is measured as seconds per combination
per bar of data over its latest ended jobs (compute seconds / combinations run / dataset
rows), so a job's run time scales with both its grid and its data. Without any ended job of
the strategy a default cost is assumed, and the estimate says so."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from optimizer_app.core.errors import NotFoundError, ValidationError
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.orchestration.leases import MAX_HELD_JOBS
from optimizer_app.orchestration.usage import reserved_bytes
from optimizer_app.persistence import datasets as dataset_queries
from optimizer_app.persistence import jobs
from optimizer_app.persistence import usage as usage_queries
from optimizer_app.persistence.models import OptimizationJob, UsageRecord
from optimizer_app.persistence.usage import RunningJob
from optimizer_app.services import quotas as quota_service
from optimizer_app.services.schemas import QueueInfo, as_utc
from optimizer_app.services.usage_schemas import EstimatePublic

# Seconds per combination per bar with the default worker count when nothing was measured
# yet (about 2,000 combinations/s on 2,000 daily bars).
DEFAULT_COST = 2.5e-7
TYPICAL_ROWS = 2_000
PICKUP_SECONDS = 1.0  # a queued job with a free slot is claimed within about this


def strategy_cost(*, session: Session, strategy: str) -> float | None:
    """Measured seconds per combination per bar (median of the latest ended jobs), or None."""
    costs = [seconds / (run * rows) for seconds, run, rows
             in usage_queries.measured_costs(session=session, strategy=strategy)]
    return statistics.median(costs) if costs else None


def estimate(*, session: Session, owner_id: uuid.UUID, strategy: str, dataset_id: uuid.UUID,
             combinations: int) -> EstimatePublic:
    """Run time, storage and the quotas a job would exceed, before it is submitted."""
    try:
        get_strategy(strategy)
    except UnknownStrategyError as exc:
        raise ValidationError(f"unknown strategy {strategy!r}; see GET /api/v1/strategies",
                              details=[{"field": "strategy", "problem": "unknown"}]) from exc
    dataset = dataset_queries.get_visible_dataset(session=session, dataset_id=dataset_id,
                                                  owner_id=owner_id)
    if dataset is None:
        raise NotFoundError(f"dataset {dataset_id} not found")
    measured = strategy_cost(session=session, strategy=strategy)
    cost = measured if measured is not None else DEFAULT_COST
    demand = quota_service.Demand(combinations, reserved_bytes(combinations))
    exceeds = quota_service.problems(
        session=session, owner_id=owner_id,
        quotas=quota_service.quotas_of(session=session, user_id=owner_id), demand=demand,
        datasets_bytes=quota_service.dataset_bytes(session=session, owner_id=owner_id),
    )
    return EstimatePublic(combinations=combinations, seconds=combinations * dataset.rows * cost,
                          measured=measured is not None, stored_bytes=demand.stored_bytes,
                          exceeds=exceeds)


def _rate(running: list[RunningJob], now: datetime) -> float:
    """Combinations per second the workers run now (summed over the running jobs)."""
    rate = 0.0
    for job in running:
        if job.started_at is not None and job.done:
            elapsed = (now - as_utc(job.started_at)).total_seconds()  # type: ignore[operator]
            if elapsed > 0:
                rate += job.done / elapsed
    return rate


def _seconds_until_free(running: list[RunningJob], needed: int, rate: float) -> float:
    """When ``needed`` running jobs will have ended, with the workers shared evenly between
    running jobs (the orchestrator's round-robin): the smallest remainders end first."""
    remaining = sorted(max(0, job.total - job.done) for job in running)
    seconds, before = 0.0, 0
    for i, left in enumerate(remaining[:needed]):
        seconds += (left - before) * (len(remaining) - i) / rate
        before = left
    return seconds


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def queue_info(*, session: Session, job: OptimizationJob, now: datetime | None = None
               ) -> QueueInfo:
    """Position, reason and estimated start of a queued job (a few short reads)."""
    now = now or datetime.now(UTC)
    ahead, ahead_combinations = usage_queries.queued_ahead(
        session=session, created_at=job.created_at, job_id=job.id)
    running = usage_queries.running_jobs(session=session)
    rate = _rate(running, now)
    if rate <= 0:  # nothing runs to measure: this strategy's measured cost on this data
        cost = strategy_cost(session=session, strategy=job.strategy) or DEFAULT_COST
        record = session.get(UsageRecord, job.id)
        rate = 1.0 / (cost * max(1, record.dataset_rows if record else TYPICAL_ROWS))
    left = sum(max(0, r.total - r.done) for r in running)
    position = ahead + 1
    parts = [f"{_ordinal(position)} in the queue"]
    if ahead:
        parts.append(f"{ahead:,} job{'s' if ahead != 1 else ''} "
                     f"({ahead_combinations:,} combinations) queued ahead of it")
    if running:
        parts.append(f"{len(running):,} running job{'s' if len(running) != 1 else ''} with "
                     f"{left:,} combinations left")
    parts.append(f"the workers run about {rate:,.0f} combinations/s")
    free = MAX_HELD_JOBS - len(running)
    if position <= free:
        start = now + timedelta(seconds=PICKUP_SECONDS)
        parts.append("it starts as soon as the orchestrator picks it up")
    else:
        start = now + timedelta(seconds=PICKUP_SECONDS + _seconds_until_free(
            running, position - max(free, 0), rate))
        parts.append(f"at most {MAX_HELD_JOBS} jobs run at once, so it starts when "
                     f"{position - max(free, 0):,} of them end")
    parts.extend(_limits(session=session, owner_id=job.owner_id))
    return QueueInfo(position=position, reason="; ".join(parts), estimated_start=start)


def _limits(*, session: Session, owner_id: uuid.UUID) -> list[str]:
    quotas = quota_service.quotas_of(session=session, user_id=owner_id)
    notes = []
    if quotas.live_jobs is not None:
        live = jobs.count_live_jobs(session=session, owner_id=owner_id)
        if live >= quotas.live_jobs:
            notes.append(f"you have {live:,} of your {quotas.live_jobs:,} live jobs, so new "
                         "submits wait for one to end")
    if quotas.worker_share < 1:
        notes.append(f"your jobs use at most {quotas.worker_share:.0%} of the workers while "
                     "other users' work waits")
    return notes


def running_share(*, session: Session, owner_id: uuid.UUID) -> float:
    """The share of the workers a running job of this owner gets now: the orchestrator sends
    chunks round-robin between running jobs, so each gets about 1/n (capped by its owner's
    share quota while others run). Two short reads; the caller knows the job runs."""
    running = max(1, usage_queries.count_running(session=session))
    cap = quota_service.quotas_of(session=session, user_id=owner_id).worker_share
    return min(1.0 / running, cap) if running > 1 else 1.0


@dataclass(frozen=True)
class Budget:
    """What the new-job form needs to estimate a job while it is edited, read once: each
    strategy's measured cost (None: not measured yet, ``DEFAULT_COST`` applies) and what is
    left of the quotas (None: no limit)."""

    costs: dict[str, float | None]
    combinations_left: int | None
    bytes_left: int | None
    live_left: int | None


def budget(*, session: Session, owner_id: uuid.UUID, strategy_names: list[str]) -> Budget:
    quotas = quota_service.quotas_of(session=session, user_id=owner_id)
    now = datetime.now(UTC)
    used = usage_queries.quota_usage(session=session, owner_id=owner_id,
                                     since=quota_service.day_start(now))
    today, live = used.charged_since, used.live_jobs
    stored = used.stored_bytes + quota_service.dataset_bytes(session=session, owner_id=owner_id)

    def left(limit: int | None, used: int) -> int | None:
        return None if limit is None else max(0, limit - used)

    return Budget(
        costs={name: strategy_cost(session=session, strategy=name) for name in strategy_names},
        combinations_left=left(quotas.combinations_per_day, today),
        bytes_left=left(quotas.stored_bytes, stored),
        live_left=left(quotas.live_jobs, live),
    )


def storage_estimate(combinations: int) -> int:
    """Bytes a job of ``combinations`` is expected to store (what the form shows)."""
    return reserved_bytes(combinations)

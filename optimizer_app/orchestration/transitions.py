"""The job state machine: every status change goes through :func:`transition`.

``queued → running → succeeded | failed | early-stopped | canceled`` (and ``queued →
canceled | failed`` for a job canceled, or impossible to run, before it started). A terminal
status is final: its summary never changes again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from optimizer_app.persistence.models import (
    TERMINAL_STATUSES,
    JobStatus,
    OptimizationJob,
    utcnow,
)

ALLOWED_MOVES: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.EARLY_STOPPED,
            JobStatus.CANCELED,
        }
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.EARLY_STOPPED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


class IllegalTransition(Exception):
    """A status change the state machine does not allow (e.g. leaving a terminal status)."""

    def __init__(self, current: JobStatus, target: JobStatus) -> None:
        super().__init__(f"a job cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def transition(
    job: OptimizationJob,
    status: JobStatus,
    *,
    reason: str | None = None,
    error: str | None = None,
    now: datetime | None = None,
) -> OptimizationJob:
    """Move ``job`` to ``status`` (in memory; the caller commits), or raise
    :class:`IllegalTransition`. Entering a terminal status stamps ``finished_at`` and
    ``exec_seconds`` (from ``started_at``, when the job had started) and drops the lease."""
    current = JobStatus(job.status)
    if status not in ALLOWED_MOVES[current]:
        raise IllegalTransition(current, status)
    now = now or utcnow()
    job.status = status.value
    job.updated_at = now
    if reason is not None:
        job.stop_reason = reason[:500]
    if error is not None:
        job.error = error[:2000]
    if status in TERMINAL_STATUSES:
        job.finished_at = now
        if job.started_at is not None:
            job.exec_seconds = max(0.0, (now - _aware(job.started_at)).total_seconds())
        job.lease_owner = None
        job.lease_expires_at = None
    return job


def is_terminal(status: str | JobStatus) -> bool:
    return JobStatus(status) in TERMINAL_STATUSES


def observe_terminal(job: OptimizationJob, *, session: Session | None = None) -> None:
    """Record a job that reached a terminal status (call after the commit): metrics, and
    its usage in the ledger (in ``session`` when the caller's transaction is still open)."""
    from optimizer_app.core.metrics import JOB_EXEC, JOBS_TERMINAL
    from optimizer_app.orchestration.usage import close_record

    JOBS_TERMINAL.labels(status=job.status).inc()
    if job.exec_seconds is not None:
        JOB_EXEC.observe(job.exec_seconds)
    close_record(job, session=session)

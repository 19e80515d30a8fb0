from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from optimizer_app.orchestration.transitions import (
    ALLOWED_MOVES,
    IllegalTransition,
    is_terminal,
    transition,
)
from optimizer_app.persistence.models import TERMINAL_STATUSES, JobStatus, OptimizationJob

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_job(status: JobStatus = JobStatus.QUEUED) -> OptimizationJob:
    return OptimizationJob(
        owner_id=uuid.uuid4(),
        name="job",
        strategy="sma_cross",
        dataset_id=uuid.uuid4(),
        status=status.value,
        lease_owner="host:1:abc",
        lease_expires_at=T0,
        created_at=T0,
    )


def test_queued_job_starts_running_and_keeps_its_lease() -> None:
    job = transition(make_job(), JobStatus.RUNNING, now=T0)
    assert job.status == "running"
    assert job.finished_at is None
    assert job.lease_owner == "host:1:abc"


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_running_job_reaches_every_terminal_status(status: JobStatus) -> None:
    job = make_job(JobStatus.RUNNING)
    job.started_at = T0
    transition(job, status, reason="why", now=T0 + timedelta(seconds=7))
    assert job.status == status.value
    assert job.finished_at == T0 + timedelta(seconds=7)
    assert job.exec_seconds == pytest.approx(7.0)
    assert job.stop_reason == "why"
    assert job.lease_owner is None and job.lease_expires_at is None


def test_queued_job_can_be_canceled_or_failed_but_not_succeed() -> None:
    transition(make_job(), JobStatus.CANCELED)
    transition(make_job(), JobStatus.FAILED, error="dataset missing")
    with pytest.raises(IllegalTransition):
        transition(make_job(), JobStatus.SUCCEEDED)
    with pytest.raises(IllegalTransition):
        transition(make_job(), JobStatus.EARLY_STOPPED)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("target", list(JobStatus))
def test_terminal_status_is_final(terminal: JobStatus, target: JobStatus) -> None:
    job = make_job(terminal)
    with pytest.raises(IllegalTransition, match=f"from {terminal.value}"):
        transition(job, target)
    assert job.status == terminal.value


def test_failed_transition_records_the_error_without_start_time() -> None:
    job = transition(make_job(), JobStatus.FAILED, error="x" * 5000)
    assert job.error == "x" * 2000
    assert job.exec_seconds is None


def test_every_status_has_a_rule_and_terminal_helper_agrees() -> None:
    assert set(ALLOWED_MOVES) == set(JobStatus)
    for status in JobStatus:
        assert is_terminal(status) == (not ALLOWED_MOVES[status])
        assert is_terminal(status.value) == (status in TERMINAL_STATUSES)

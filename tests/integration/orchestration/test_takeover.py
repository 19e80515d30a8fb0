"""Leases: two orchestrators never hold the same job; a dead or hung orchestrator's job is taken
over and resumed without redoing finished work; fairness between running jobs."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psutil
from sqlalchemy import update

from optimizer_app.orchestration.leases import claim_jobs, new_owner_id
from optimizer_app.orchestration.orchestrator import Orchestrator
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import OptimizationJob, utcnow
from optimizer_app.services.optimizations import cancel_job
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    SLOW,
    SMALL_SPACE,
    TEN_SPACE,
    assert_books_balance,
    job_row,
    orchestrator_process,
    running,
    status,
    submit,
    wait_for,
    wait_progress,
    wait_terminal,
)

# 198,753 combinations: as large as a job may be.
HUGE_RSI_SPACE = {
    "period": {"start": 2, "stop": 98, "step": 1},
    "lower": {"start": 1, "stop": 50, "step": 1},
    "upper": {"start": 50, "stop": 90, "step": 1},
}


def _race(owners: list[str], limit: int) -> dict[str, set[uuid.UUID]]:
    barrier = threading.Barrier(len(owners))
    claimed: dict[str, set[uuid.UUID]] = {}

    def claim(owner: str) -> None:
        barrier.wait()
        jobs = claim_jobs(owner=owner, limit=limit, lease_seconds=60, exclude=set())
        claimed[owner] = {job.id for job in jobs}

    threads = [threading.Thread(target=claim, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed


def test_two_orchestrators_never_claim_the_same_job(backend: Backend) -> None:
    submitted = {submit(backend, SMALL_SPACE).id for _ in range(5)}
    owners = [new_owner_id(), new_owner_id(), new_owner_id()]
    for _round in range(2):
        claimed = _race(owners, limit=3)
        sets = list(claimed.values())
        assert sum(len(s) for s in sets) == len(submitted)  # nobody claimed a job twice
        assert set().union(*sets) == submitted
        for owner, ids in claimed.items():
            for job_id in ids:
                assert job_row(job_id).lease_owner == owner
        with session_scope() as session:  # every lease expires: the race starts again
            session.execute(
                update(OptimizationJob)
                .where(OptimizationJob.id.in_(submitted))  # type: ignore[attr-defined]
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )


def test_two_running_orchestrators_share_the_work_without_overlap(backend: Backend) -> None:
    jobs = [submit(backend, SMALL_SPACE).id for _ in range(4)]
    with running(backend) as first, running(backend) as second:
        for job_id in jobs:
            assert wait_terminal(backend, job_id).status == "succeeded"
    assert not set(first.claimed) & set(second.claimed)
    assert set(first.claimed) | set(second.claimed) == set(jobs)
    for job_id in jobs:
        assert_books_balance(job_id)


def test_a_hung_orchestrator_loses_its_job_when_the_lease_expires(backend: Backend) -> None:
    job = submit(backend, LARGE_SPACE)
    hung = Orchestrator(executor=backend.executor, lease_seconds=1.5, chunk_function=SLOW)
    deadline = time.monotonic() + 30
    while status(backend, job.id).summary.finished < 100:  # it works for a while, then hangs
        hung.run_once()
        assert time.monotonic() < deadline
    hung_at = time.monotonic()
    with running(backend, lease_seconds=1.5, chunk_function=SLOW) as rescuer:
        wait_for(lambda: job.id in rescuer.claimed, 10, "the takeover")
        assert time.monotonic() - hung_at >= 1.0  # not before the lease ran out
        # the hung one wakes up: its late results are discarded, it lets the job go
        for _ in range(20):
            hung.run_once()
        assert job.id not in hung.runs
        final = wait_terminal(backend, job.id, timeout=60)
    hung.shutdown()
    assert final.status == "succeeded"
    assert_books_balance(job.id)


def test_orchestrator_killed_and_restarted_resumes_the_job(backend: Backend, tmp_path: Path
                                                          ) -> None:
    job = submit(backend, LARGE_SPACE)
    log = tmp_path / "orchestrator.log"
    first = orchestrator_process(backend, log, lease_seconds=30, chunk_function=SLOW)
    try:
        progress = wait_progress(backend, job.id, 300, timeout=90)
        children = psutil.Process(first.pid).children(recursive=True)
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    held = job_row(job.id)
    assert held.status == "running" and f":{first.pid}:" in (held.lease_owner or "")
    assert progress.summary.finished < progress.summary.total
    # its local workers do not outlive it
    psutil.wait_procs(children, timeout=15)
    second = orchestrator_process(backend, log, lease_seconds=30, chunk_function=SLOW)
    try:
        restarted = time.monotonic()
        final = wait_terminal(backend, job.id, timeout=90)
        assert time.monotonic() - restarted < 30  # taken over at once, not after the lease
        assert final.status == "succeeded"
        assert_books_balance(job.id)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    assert not any(child.is_running() for child in children), log.read_text()[-2000:]


def test_a_small_job_is_not_stuck_behind_a_huge_one(backend: Backend) -> None:
    huge = submit(backend, HUGE_RSI_SPACE, strategy="rsi_reversion")
    assert huge.summary.total == 198_753
    with running(backend, chunk_function=SLOW):
        wait_progress(backend, huge.id, 500)
        submitted = time.monotonic()
        small = submit(backend, TEN_SPACE)
        final = wait_terminal(backend, small.id, timeout=30)
        waited = time.monotonic() - submitted
        assert status(backend, huge.id).status == "running"
        with session_scope() as session:
            cancel_job(session=session, owner_id=backend.owner_id, job_id=huge.id)
    assert final.status == "succeeded" and final.summary.finished == 10
    assert waited < 5.0, f"the small job took {waited:.1f}s"
    assert_books_balance(small.id)
    assert_books_balance(huge.id, complete=False)

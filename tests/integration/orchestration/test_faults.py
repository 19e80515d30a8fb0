"""Failures: workers dying, chunks raising or killing their workers, cancel, and a dataset that
disappeared. Every test ends by checking the books: finished + failed == total == rows."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlmodel import select

from optimizer_app.core.errors import ConflictError
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, OptimizationTask
from optimizer_app.services.optimizations import cancel_job
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    MEDIUM_SPACE,
    POISON,
    RAISING,
    SLOW,
    SMALL_SPACE,
    assert_books_balance,
    job_row,
    running,
    status,
    submit,
    wait_for,
    wait_progress,
    wait_terminal,
)
from tests.support.faulty_chunks import FAULTY_INDEX


def failed_tasks(job_id) -> list[OptimizationTask]:  # type: ignore[no-untyped-def]
    with session_scope(readonly=True) as session:
        return list(session.exec(
            select(OptimizationTask).where(
                OptimizationTask.job_id == job_id, OptimizationTask.status == "failed"
            )
        ).all())


def test_cancel_is_immediate_and_freezes_the_summary(backend: Backend) -> None:
    job = submit(backend, LARGE_SPACE)
    with running(backend, chunk_function=SLOW):
        wait_progress(backend, job.id, 1)
        started = time.monotonic()
        with session_scope() as session:
            answer = cancel_job(session=session, owner_id=backend.owner_id, job_id=job.id)
        assert time.monotonic() - started < 1.0
        assert answer.status == "canceled"
        assert status(backend, job.id).status == "canceled"
        frozen = job_row(job.id)
        time.sleep(1.5)  # chunks that were running finish meanwhile; none may be written
        after = job_row(job.id)
    assert after.summary == frozen.summary and after.updated_at == frozen.updated_at
    assert after.stop_reason == "canceled by the user" and after.cancel_requested
    assert frozen.summary["finished"] < frozen.summary["total"]
    assert_books_balance(job.id, complete=False)
    with session_scope() as session, pytest.raises(ConflictError, match="already canceled"):
        cancel_job(session=session, owner_id=backend.owner_id, job_id=job.id)


def test_a_queued_job_can_be_canceled_and_never_runs(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE)
    with session_scope() as session:
        assert cancel_job(session=session, owner_id=backend.owner_id, job_id=job.id).status == (
            "canceled"
        )
    with running(backend) as orchestrator:
        time.sleep(0.6)
    assert job.id not in orchestrator.claimed
    row = assert_books_balance(job.id, complete=False)
    assert row.summary["finished"] == 0 and row.started_at is None


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(backend: Backend) -> None:
    job = submit(backend, MEDIUM_SPACE)
    with running(backend, chunk_function=SLOW):
        wait_progress(backend, job.id, 200)
        victim = next(iter(backend.executor.worker_environments().values()))["pid"]
        os.kill(victim, signal.SIGKILL)
        final = wait_terminal(backend, job.id, timeout=90)
        assert not failed_tasks(job.id)
    assert final.status == "succeeded"
    assert final.summary.finished == final.summary.total == 1409
    assert_books_balance(job.id)
    wait_for(lambda: backend.executor.capacity(refresh=True) >= 2, 120, "the worker to return")


def test_a_raising_chunk_fails_its_tasks_and_the_job_goes_on(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE)
    with running(backend, chunk_function=RAISING):
        final = wait_terminal(backend, job.id)
    assert final.status == "succeeded"
    failed = failed_tasks(job.id)
    assert FAULTY_INDEX in {t.index for t in failed}
    assert final.summary.failed == len(failed) > 0
    assert final.summary.finished == 175 - len(failed)
    assert all("RuntimeError: injected failure" in (t.error or "") for t in failed)
    assert all(t.attempts == 3 and t.score is None for t in failed)
    assert_books_balance(job.id)


def test_a_poison_chunk_is_given_up_after_bounded_attempts(backend: Backend) -> None:
    # In index order, the chunk holding the poison is a run of consecutive indices.
    job = submit(backend, SMALL_SPACE, grid_order="sequential")
    with running(backend, chunk_function=POISON):
        final = wait_terminal(backend, job.id, timeout=120)
    assert final.status == "succeeded"
    failed = sorted(t.index for t in failed_tasks(job.id))
    # exactly the chunk holding the poison combination failed; its bystanders were rerun
    assert FAULTY_INDEX in failed and len(failed) < 175  # one chunk (sized by timing), not the job
    assert failed == list(range(failed[0], failed[-1] + 1))
    poisoned = next(t for t in failed_tasks(job.id) if t.index == FAULTY_INDEX)
    assert "worker processes died" in (poisoned.error or "")
    assert final.summary.failed == len(failed)
    assert final.summary.finished == 175 - len(failed)
    assert_books_balance(job.id)
    wait_for(lambda: backend.executor.capacity(refresh=True) >= 2, 120, "the workers to return")


def test_a_job_whose_dataset_file_is_gone_fails(backend: Backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        bundled = session.get(Dataset, backend.dataset_id)
        assert bundled is not None
        lost = Dataset(
            owner_id=backend.owner_id, name="lost", symbol="LOST", rows=bundled.rows,
            first_date=bundled.first_date, last_date=bundled.last_date,
            checksum=bundled.checksum, storage_path=str(tmp_path / "gone.csv"),
        )
        session.add(lost)
        session.flush()
        backend.dataset_id, bundled_id = lost.id, bundled.id
    try:
        job = submit(backend, SMALL_SPACE)
    finally:
        backend.dataset_id = bundled_id
    with running(backend):
        final = wait_terminal(backend, job.id)
    assert final.status == "failed"
    row = job_row(job.id)
    assert "missing" in (row.error or "")
    assert_books_balance(job.id, complete=False)

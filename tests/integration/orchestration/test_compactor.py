"""The compacting thread of the orchestrator: housekeeping, so it runs at the local workers'
niceness (and the DuckDB threads it starts inherit that); and while the orchestrator runs
jobs, small finished jobs wait to be compacted (their per-chunk files read fast as they are,
and rewriting them takes CPU from the running jobs), large ones do not. Once nothing runs,
every finished job is compacted."""

from __future__ import annotations

import os
import sys
import threading
import uuid

import pytest
from sqlalchemy import delete
from sqlmodel import col

from optimizer_app.orchestration import compaction
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import JobStatus, ResultFile
from tests.support.factories import JobSpec, bundled_dataset, make_job, make_user


def _finished_job_with_chunks(rows: list[int], status: JobStatus = JobStatus.SUCCEEDED
                              ) -> uuid.UUID:
    with session_scope() as session:
        user = make_user(session)
        job = make_job(session, owner_id=user.id, dataset_id=bundled_dataset(session).id,
                       spec=JobSpec(status=status, artifacts=False))
        for i, count in enumerate(rows):
            results_store.add_file(session=session, job_id=job.id, name=f"c{i}.parquet",
                                   rows=count, failed=0, size=100)
        return job.id


def test_only_jobs_above_the_threshold_are_listed_while_busy(migrated_db: str) -> None:
    small = _finished_job_with_chunks([20])
    large = _finished_job_with_chunks([40_000, 40_000])  # 80,000 rows in two files
    running = _finished_job_with_chunks([100_000], status=JobStatus.RUNNING)
    try:
        everything = compaction.jobs_to_compact(limit=10_000)
        busy = compaction.jobs_to_compact(limit=10_000, more_rows_than=compaction.DEFERRED_ROWS)
    finally:  # (their files do not exist: no orchestrator of a later test may try them)
        with session_scope() as session:
            session.execute(delete(ResultFile).where(
                col(ResultFile.job_id).in_([small, large, running])))
    assert {small, large} <= set(everything) and running not in everything
    assert large in busy and small not in busy and running not in busy


def _poked(monkeypatch: pytest.MonkeyPatch, pokes: list[bool]) -> list[tuple[int, int]]:
    """Poke a compactor with each ``busy`` in turn; what its thread asked for each time:
    (its niceness, ``more_rows_than``)."""
    asked: list[tuple[int, int]] = []
    looked = threading.Event()

    def record(limit: int = compaction.BATCH, *, more_rows_than: int = 0) -> list[uuid.UUID]:
        asked.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                      more_rows_than))
        looked.set()
        return []

    monkeypatch.setattr(compaction, "jobs_to_compact", record)
    compactor = compaction.Compactor()
    compactor.start()
    try:
        for busy in pokes:
            looked.clear()
            compactor.poke(busy=busy)
            assert looked.wait(10)
    finally:
        compactor.stop()
    return asked[:len(pokes)]  # (stopping may look once more)


def test_the_compactor_defers_small_jobs_while_poked_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _poked(monkeypatch, [True, False])
    assert [rows for _, rows in asked] == [compaction.DEFERRED_ROWS, 0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness")
def test_the_compacting_thread_runs_at_the_workers_niceness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [(niceness, _)] = _poked(monkeypatch, [False])
    assert niceness == max(compaction.CHILD_NICENESS, os.nice(0))
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.nice(0)

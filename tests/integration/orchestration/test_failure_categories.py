"""Each failure category produced for real by a running orchestrator and its workers: a
strategy that raises and one that runs out of memory (only those combinations fail), a chunk
that kills its worker every time (lost), bars with a hole (data), a full disk under the
worker (resource), a chunk that does not come back in time (timeout). Then the re-run of a
job's failed combinations runs exactly those indices."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from optimizer_app.domain.grid import build_grid
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import OptimizationTask
from optimizer_app.services.optimizations import submit_job
from optimizer_app.services.schemas import JobCreate
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    POISON,
    SLOW,
    SMALL_SPACE,
    assert_books_balance,
    job_row,
    running,
    submit,
    wait_for,
    wait_terminal,
)
from tests.support import failing_strategy
from tests.support.faulty_chunks import FAULTY_INDEX, SCRATCH_DIR

CHUNKS = "tests.support.faulty_chunks"


def tasks_of(job_id) -> list[OptimizationTask]:  # type: ignore[no-untyped-def]
    with session_scope(readonly=True) as session:
        return list(session.exec(
            select(OptimizationTask).where(OptimizationTask.job_id == job_id)
            .order_by(OptimizationTask.index)  # type: ignore[arg-type]
        ).all())


def stored_rows(job_id) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every combination of the job in the results store, in index order."""
    with session_scope(readonly=True) as session:
        files = results_store.job_results(session=session, job_id=job_id)
    return results_store.page(files, sort="index", descending=False, offset=0,
                              limit=files.rows)


def failed_of(job_id) -> list[OptimizationTask]:  # type: ignore[no-untyped-def]
    return [t for t in tasks_of(job_id) if t.status == "failed"]


def assert_failures_counted(job_id) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """summary.failures adds up to summary.failed and matches the stored rows."""
    summary = job_row(job_id).summary
    stored: dict[str, int] = {}
    for task in failed_of(job_id):
        assert task.error_category is not None and task.error, task
        stored[task.error_category] = stored.get(task.error_category, 0) + 1
    assert summary["failures"] == stored
    assert sum(stored.values()) == summary["failed"]
    return stored



@pytest.fixture(autouse=True)
def _failing_strategy_registered():
    """The failing strategy exists for this module's tests only."""
    failing_strategy.register()
    yield
    failing_strategy.unregister()

def test_only_the_combinations_whose_strategy_raises_or_runs_out_of_memory_fail(
    backend: Backend,
) -> None:
    job = submit(backend, SMALL_SPACE, strategy=failing_strategy.NAME)
    with running(backend, chunk_function=f"{CHUNKS}:plain_chunk"):
        final = wait_terminal(backend, job.id, timeout=90)
    assert final.status == "succeeded"
    grid = build_grid(failing_strategy.NAME, SMALL_SPACE, cap=1000)
    fast = grid.params_for(np.arange(grid.total))["fast"]
    raising = set(np.flatnonzero(fast == failing_strategy.RAISING_FAST).tolist())
    hungry = set(np.flatnonzero(fast == failing_strategy.HUNGRY_FAST).tolist())
    failed = failed_of(job.id)
    assert {t.index for t in failed if t.error_category == "strategy"} == raising
    assert {t.index for t in failed if t.error_category == "resource"} == hungry
    assert len(failed) == len(raising) + len(hungry)  # every bystander ran
    by_index = {t.index: t for t in failed}
    assert "ValueError: the strategy cannot handle fast=15" in (by_index[min(raising)].error or "")
    assert "ran out of memory" in (by_index[min(hungry)].error or "")
    assert assert_failures_counted(job.id) == {"strategy": len(raising), "resource": len(hungry)}
    assert final.summary.failures == {"strategy": len(raising), "resource": len(hungry)}
    assert_books_balance(job.id)


def test_a_chunk_that_kills_its_workers_every_time_is_lost(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE, grid_order="sequential")
    with running(backend, chunk_function=POISON):
        final = wait_terminal(backend, job.id, timeout=120)
    failed = failed_of(job.id)
    assert FAULTY_INDEX in {t.index for t in failed}
    assert {t.error_category for t in failed} == {"lost"}
    assert "worker processes died" in (failed[0].error or "")
    assert final.summary.failures == {"lost": len(failed)}
    assert_failures_counted(job.id)
    assert_books_balance(job.id)
    wait_for(lambda: backend.executor.capacity(refresh=True) >= 2, 60, "the workers to return")


def test_bars_with_a_hole_fail_as_data(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE, grid_order="sequential")
    with running(backend, chunk_function=f"{CHUNKS}:holed_chunk"):
        final = wait_terminal(backend, job.id)
    assert final.status == "succeeded"
    failed = failed_of(job.id)
    assert FAULTY_INDEX in {t.index for t in failed} and len(failed) < 175
    assert {t.error_category for t in failed} == {"data"}
    assert "have no valid open or close price" in (failed[0].error or "")
    assert all(t.attempts == 1 for t in failed)  # not retried: the same bars fail again
    assert final.summary.failures == {"data": len(failed)}
    assert_books_balance(job.id)


def test_a_chunk_past_the_time_limit_times_out(backend: Backend) -> None:
    job = submit(backend, SMALL_SPACE, grid_order="sequential")
    with running(backend, chunk_function=f"{CHUNKS}:stalling_chunk",
                 chunk_timeout_seconds=1.5):
        final = wait_terminal(backend, job.id, timeout=60)
    failed = failed_of(job.id)
    assert FAULTY_INDEX in {t.index for t in failed}
    # the stalled chunk, and any chunk that waited behind it on the same worker
    assert {t.error_category for t in failed} == {"timeout"}
    assert "did not finish within 1.5 s" in (failed[0].error or "")
    assert final.summary.failures == {"timeout": len(failed)}
    assert final.summary.finished + final.summary.failed == 175
    assert_books_balance(job.id)


def _mount_full_scratch() -> tuple[bool, str]:
    SCRATCH_DIR.mkdir(exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(SCRATCH_DIR)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return False, (result.stderr or result.stdout).strip()
    with open(SCRATCH_DIR / "filler.bin", "wb", buffering=0) as handle:  # fill it up
        try:
            while handle.write(b"\0" * 65536):
                pass
        except OSError:
            pass
    return True, ""


@pytest.fixture
def full_scratch_disk() -> Iterator[Path]:
    mounted, why = _mount_full_scratch() if os.geteuid() == 0 else (False, "mounting needs root")
    if not mounted:
        print(f"\nfull-disk worker test not run: cannot mount a tmpfs ({why})")
        pytest.skip(f"cannot mount a tmpfs: {why}")
    try:
        yield SCRATCH_DIR
    finally:
        subprocess.run(["umount", "-l", str(SCRATCH_DIR)], check=False)


def test_a_full_disk_under_the_worker_fails_as_resource(backend: Backend,
                                                        full_scratch_disk: Path) -> None:
    job = submit(backend, SMALL_SPACE, grid_order="sequential")
    with running(backend, chunk_function=f"{CHUNKS}:spilling_chunk"):
        final = wait_terminal(backend, job.id)
    assert final.status == "succeeded"
    failed = failed_of(job.id)
    assert FAULTY_INDEX in {t.index for t in failed} and len(failed) < 175
    assert {t.error_category for t in failed} == {"resource"}
    assert "disk is full" in (failed[0].error or "")
    assert final.summary.failures == {"resource": len(failed)}
    assert_books_balance(job.id)


def test_rerun_of_the_failed_runs_exactly_the_failed_indices(backend: Backend) -> None:
    # The source's chunk holding FAULTY_INDEX gets bars with a hole; the re-run's does not.
    source = submit(backend, SMALL_SPACE)  # shuffled: the failed indices are scattered
    with running(backend, chunk_function=f"{CHUNKS}:holed_chunk"):
        wait_terminal(backend, source.id)
    failed = sorted(t.index for t in failed_of(source.id))
    assert FAULTY_INDEX in failed
    with session_scope() as session:
        rerun = submit_job(session=session, owner_id=backend.owner_id,
                           body=JobCreate(source_job_id=source.id, rerun="failed"))
    assert rerun.summary.total == len(failed) and rerun.source_job_id == source.id
    with running(backend, chunk_function=SLOW):
        final = wait_terminal(backend, rerun.id)
    assert final.status == "succeeded"
    rows = stored_rows(rerun.id)
    assert [r["index"] for r in rows] == failed  # the grid's own indices, nothing else
    source_params = {r["index"]: r["params"] for r in stored_rows(source.id)}
    assert all(r["params"] == source_params[r["index"]] for r in rows)
    assert {r["status"] for r in rows} == {"succeeded"}
    assert final.summary.finished == len(failed) and final.summary.failures == {}
    assert {entry.index for entry in final.summary.top_n} <= set(failed)
    assert_books_balance(rerun.id)

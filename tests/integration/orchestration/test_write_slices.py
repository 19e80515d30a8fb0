"""Chunk writes are split into short transactions (the single SQLite writer is held only for
a slice of rows), and the books still balance — also when a write fails half-way and the
chunk is written again; a full disk fails the job with a readable error instead of
resending its chunk forever."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from optimizer_app.orchestration import writer
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    assert_books_balance,
    job_row,
    running,
    submit,
    wait_terminal,
)

SLICE = 128


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "WRITE_SLICE_ROWS", SLICE)


def test_large_chunks_are_written_in_bounded_slices(
    backend: Backend, small_slices: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write transaction inserts the rows of one ``insert_tasks`` call."""
    per_transaction: list[int] = []
    real = writer.tasks.insert_tasks

    def counted(*, session: Any, batch: Any) -> None:
        per_transaction.append(len(batch))
        real(session=session, batch=batch)

    monkeypatch.setattr(writer.tasks, "insert_tasks", counted)
    job = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 10})
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=120)
    assert final.status == "succeeded"
    assert_books_balance(job.id)
    # Rows per transaction never exceed a slice (+ the chunk's Top-N rows in the last one),
    # and the job's 3,956 rows took many transactions.
    assert max(per_transaction) <= SLICE + 10, per_transaction
    assert sum(per_transaction) == final.summary.total
    assert len(per_transaction) >= final.summary.total // SLICE


def test_a_write_failing_half_way_is_written_again_without_duplicates(
    backend: Backend, small_slices: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writer._write_slice
    calls = {"n": 0}

    def flaky(run: Any, batch: Any, *, owner: str) -> Any:
        calls["n"] += 1
        if calls["n"] % 5 == 3:  # a leading slice is stored, then the write breaks
            raise RuntimeError("connection dropped")
        return real(run, batch, owner=owner)

    monkeypatch.setattr(writer, "_write_slice", flaky)
    job = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 10})
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=120)
    assert calls["n"] > 5
    assert final.status == "succeeded"
    assert_books_balance(job.id)


def test_a_full_disk_fails_the_job_with_a_readable_error(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.tasks, "insert_tasks", full)
    job = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 10})
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=60)
    assert final.status == "failed"
    error = job_row(job.id).error or ""
    assert error.startswith("the data disk is full"), error
    assert "free space" in error

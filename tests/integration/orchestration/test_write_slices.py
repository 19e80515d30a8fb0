"""Chunk writes are short transactions (workers write the results; the single SQLite writer
inserts only Top-N rows, and failed rows a slice at a time), and the books still balance —
also when a commit fails and the chunk is written again; a full disk fails the job with a readable error instead of
resending its chunk forever."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from optimizer_app.orchestration import writer
from optimizer_app.orchestration.compaction import compact_job
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    assert_books_balance,
    job_row,
    running,
    store_counts,
    submit,
    wait_terminal,
)

SLICE = 128


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "WRITE_SLICE_ROWS", SLICE)


def test_the_writer_stores_only_top_n_rows(
    backend: Backend, small_slices: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers write every result to the results store; the single writer inserts only the
    rows that entered the Top-N, a few per transaction."""
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
    assert store_counts(job.id)["total"] == final.summary.total == 3956
    assert max(per_transaction) <= 10, per_transaction
    assert sum(per_transaction) < final.summary.total // 20


def test_a_commit_failing_is_written_again_without_duplicates(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose commit breaks is sent again; its first file never becomes part of the
    job (it is removed when the job is compacted), so no combination is stored twice."""
    real = writer._commit_last
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("connection dropped")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "_commit_last", flaky)
    job = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 10})
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=120)
    assert calls["n"] > 2
    assert final.status == "succeeded"
    assert_books_balance(job.id)
    compact_job(job.id)  # (the orchestrator may have compacted it already)
    with session_scope(readonly=True) as session:
        assert results_store.job_results(session=session, job_id=job.id).compacted
    assert_books_balance(job.id)
    folder = results_store.job_dir(job.id)
    assert len(list(folder.iterdir())) == 3, "only the compacted files remain"


def test_failed_rows_are_written_in_bounded_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [(f"{k:032x}", k, "{}", None, None, None) for k in range(300)]
    linked = [(f"{k:032x}", k, "{}", 1.0, "[]", "r") for k in range(300, 303)]
    head, last = writer._slices(writer.TaskBatch(("j", "failed", 1, "e", "t", "t"), rows + linked),
                                SLICE)
    assert [len(batch) for batch in head] == [128, 47] and len(last) == 125 + 3
    assert all(row[5] == "r" for row in last.rows[-3:])


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

"""A large finished job is compacted in a child process of the orchestrator (whose memory goes
back to the system when it exits), which stops when idle and is replaced when it dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from optimizer_app.orchestration import compaction
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    assert_books_balance,
    running,
    submit,
    wait_for,
    wait_terminal,
)

POLICY = {"mode": "max", "metric": "sharpe", "topN": 10}


def _compacted(job_id: Any) -> bool:
    with session_scope(readonly=True) as session:
        return results_store.job_results(session=session, job_id=job_id).compacted


def _child_pids(child: Any) -> list[int]:
    pool = child._pool
    return [] if pool is None else [p.pid for p in (pool._processes or {}).values()]


def _gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def test_a_large_job_is_compacted_in_a_child_that_stops_when_idle(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "jobs_to_compact", lambda *a, **k: [])  # not by the orchestrator
    first = submit(backend, LARGE_SPACE, POLICY)
    second = submit(backend, LARGE_SPACE, POLICY)
    with running(backend):
        for job in (first, second):
            assert wait_terminal(backend, job.id, timeout=120).status == "succeeded"
    monkeypatch.setattr(compaction, "IN_PROCESS_ROWS", 1_000)  # these jobs count as large
    child = compaction._Child()
    try:
        assert compaction.compact_job(first.id, rewrite=child.rewrite)
        pids = _child_pids(child)
        assert len(pids) == 1 and pids[0] != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, pids[0]) == max(compaction.CHILD_NICENESS,
                                                                os.nice(0))
        assert _compacted(first.id)
        assert_books_balance(first.id)

        # the child dies between jobs: the next rewrite fails, and the one after gets a new child
        os.kill(pids[0], signal.SIGKILL)
        wait_for(lambda: _gone(pids[0]), 10, "the child gone")
        try:
            compaction.compact_job(second.id, rewrite=child.rewrite)
        except Exception:  # noqa: BLE001 - the broken pool is reported once
            assert child._pool is None
            assert compaction.compact_job(second.id, rewrite=child.rewrite)
        new = _child_pids(child)
        assert len(new) == 1 and new[0] != pids[0]
        assert _compacted(second.id)
        assert_books_balance(second.id)

        monkeypatch.setattr(compaction, "IDLE_SECONDS", 0.0)
        child.stop_if_idle()
        assert child._pool is None
        wait_for(lambda: _gone(new[0]), 10, "the idle child gone")
    finally:
        child.stop()


def test_a_small_job_is_compacted_in_the_orchestrator_itself(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "jobs_to_compact", lambda *a, **k: [])
    job = submit(backend, LARGE_SPACE, POLICY)
    with running(backend):
        assert wait_terminal(backend, job.id, timeout=120).status == "succeeded"
    child = compaction._Child()
    try:
        assert compaction.compact_job(job.id, rewrite=child.rewrite)
        assert child._pool is None, "no child process for a job this small"
        assert _compacted(job.id)
    finally:
        child.stop()

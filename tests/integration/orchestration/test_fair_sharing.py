"""Fair sharing under quotas, on both backends: with one user's big job running, another
user's 10,000-combination job starts at once and finishes within seconds; a user's share of
the workers holds while someone else waits."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Any

import pytest

from optimizer_app.core.config import settings
from optimizer_app.core.errors import ConflictError
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import UserQuota
from optimizer_app.services.optimizations import cancel_job
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    assert_books_balance,
    running,
    status,
    submit,
    wait_for,
    wait_progress,
    wait_terminal,
)
from tests.support.factories import make_user

# 1,715,196 combinations (above the default grid cap: the test raises it).
BIG_SPACE = {"period": {"start": 5, "stop": 200, "step": 1},
             "k": {"start": 0.5, "stop": 4.0, "step": 0.0004}}
# 10,000 combinations.
TEN_THOUSAND = {"period": {"start": 2, "stop": 21, "step": 1},
                "lower": {"start": 1, "stop": 25, "step": 1},
                "upper": {"start": 60, "stop": 79, "step": 1}}

THIRTY_THOUSAND = {**TEN_THOUSAND, "period": {"start": 2, "stop": 61, "step": 1}}


def another_user(backend: Backend, share: float | None = None) -> Backend:
    with session_scope() as session:
        user = make_user(session)
        if share is not None:
            session.add(UserQuota(user_id=user.id, worker_share=share))
        return dataclasses.replace(backend, owner_id=user.id)


def test_another_users_small_job_runs_at_once_next_to_a_big_one(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "grid_cap", 2_000_000)
    big = submit(backend, BIG_SPACE, strategy="bollinger_breakout")
    assert big.summary.total == 1_715_196
    other = another_user(backend)
    with running(backend):
        wait_progress(backend, big.id, 2_000)
        submitted = time.monotonic()
        small = submit(other, TEN_THOUSAND, strategy="rsi_reversion")
        wait_for(lambda: status(other, small.id).status != "queued", 5.0,
                 "the small job to start", interval=0.01)
        started = time.monotonic() - submitted
        final = wait_terminal(other, small.id, timeout=120)
        took = time.monotonic() - submitted
        assert status(backend, big.id).status == "running"
        with session_scope() as session:
            cancel_job(session=session, owner_id=backend.owner_id, job_id=big.id)
    assert final.status == "succeeded" and final.summary.finished == 10_000
    row = assert_books_balance(small.id)
    # Out of the queue (running, next to the big job) within a second; done within seconds.
    assert started < 1.0, f"the small job waited {started:.2f}s in the queue"
    assert took < 60, f"the small job took {took:.1f}s"
    assert row.queue_wait_seconds is not None and row.queue_wait_seconds < took
    assert_books_balance(big.id, complete=False)


def test_a_users_worker_share_holds_while_another_user_waits(backend: Backend) -> None:
    """Two workers, two chunks each: with a share of 0.25 the capped user's job is sent a
    chunk only when it has none in flight, as long as the other user's job has chunks to
    send (what was in flight before the other job came drains as it finishes)."""
    capped = another_user(backend, share=0.25)
    big = submit(capped, {"period": {"start": 5, "stop": 200, "step": 1},
                          "k": {"start": 0.5, "stop": 4.0, "step": 0.001}},
                 strategy="bollinger_breakout")  # 686,196: still running when the other ends
    other = another_user(backend)
    sends: list[tuple[int, bool]] = []  # (capped chunks in flight, other job waiting)
    with running(backend, chunk_target_seconds=0.05) as orchestrator:  # many sends
        original = orchestrator._submit

        def recording(run: Any, indices: Any, **kwargs: Any) -> None:
            if run.job_id == big.id:
                waiting = [r for r in orchestrator.runs.values()
                           if r.owner_id == other.owner_id and r.has_unsent()]
                sends.append((len(run.in_flight), bool(waiting)))
            original(run, indices, **kwargs)

        orchestrator._submit = recording  # type: ignore[method-assign]
        wait_progress(capped, big.id, 500)
        small = submit(other, THIRTY_THOUSAND, strategy="rsi_reversion")
        final = wait_terminal(other, small.id, timeout=180)
        with session_scope() as session, contextlib.suppress(ConflictError):
            cancel_job(session=session, owner_id=capped.owner_id, job_id=big.id)
    assert final.status == "succeeded" and final.summary.finished == 30_000
    while_waiting = [in_flight for in_flight, waiting in sends if waiting]
    assert while_waiting, "the capped job was never sent a chunk while the other job waited"
    assert max(while_waiting) == 0, while_waiting
    # Alone, the capped user's job used every slot.
    assert max(in_flight for in_flight, waiting in sends if not waiting) >= 1

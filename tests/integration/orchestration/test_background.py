"""The orchestrator as a background thread of this process (embedded: its own local cluster)."""

from __future__ import annotations

import time

from optimizer_app.orchestration import service
from optimizer_app.persistence.db import session_scope
from optimizer_app.services.optimizations import get_status, submit_job
from optimizer_app.services.schemas import JobCreate
from tests.support.factories import bundled_dataset, make_user

SPACE = {"fast": {"values": [5, 10, 20]}, "slow": {"values": [30, 60, 90, 120]}}


def test_start_background_runs_jobs_until_stopped(migrated_db: str) -> None:
    with session_scope() as session:
        owner, dataset = make_user(session), bundled_dataset(session)
        owner_id, dataset_id = owner.id, dataset.id
    service.start_background()
    try:
        assert service.is_running()
        service.start_background()  # a second start is a no-op
        with session_scope() as session:
            job = submit_job(session=session, owner_id=owner_id, body=JobCreate(
                strategy="sma_cross", dataset_id=dataset_id, param_space=SPACE,
                early_stop_policy={"mode": "max", "metric": "sharpe", "topN": 3}))
        deadline = time.monotonic() + 60
        while True:
            with session_scope(readonly=True) as session:
                current = get_status(session=session, owner_id=owner_id, job_id=job.id)
            if current.status not in ("queued", "running") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        service.stop_background()
    assert not service.is_running()
    assert current.status == "succeeded" and current.summary.finished == 12
    assert [e.score for e in current.summary.top_n] == sorted(
        (e.score for e in current.summary.top_n), reverse=True)

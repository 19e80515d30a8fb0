"""The usage ledger with real jobs, on both backends: what a finished, early-stopped and
canceled job counts; deletion frees storage but not the count; GET /usage and the estimate
read it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from optimizer_app.api.main import create_api
from optimizer_app.core.security import create_access_token
from optimizer_app.orchestration.usage import ROW_BYTES
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import UsageRecord
from optimizer_app.services.optimizations import cancel_job, delete_job
from optimizer_app.services.usage import usage_of
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    SMALL_SPACE,
    job_row,
    running,
    submit,
    wait_progress,
    wait_terminal,
)


def ledger(job_id: object) -> UsageRecord:
    with session_scope(readonly=True) as session:
        record = session.get(UsageRecord, job_id)
        assert record is not None
        return record


def test_usage_follows_real_jobs_and_survives_deletion(backend: Backend) -> None:
    client = TestClient(create_api(), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {create_access_token(backend.owner_id)[0]}"}
    finished = submit(backend, SMALL_SPACE)
    stopped = submit(backend, LARGE_SPACE, {"mode": "max", "metric": "sharpe", "topN": 5,
                                            "patience": 50})
    with running(backend):
        assert wait_terminal(backend, finished.id).status == "succeeded"
        early = wait_terminal(backend, stopped.id)
        canceled = submit(backend, LARGE_SPACE)
        wait_progress(backend, canceled.id, 100)
        with session_scope() as session:
            cancel_job(session=session, owner_id=backend.owner_id, job_id=canceled.id)
    assert early.status == "early-stopped"
    early_ran = early.summary.finished + early.summary.failed
    canceled_ran = job_row(canceled.id).summary["finished"] + job_row(canceled.id).summary[
        "failed"]
    assert early_ran < 3_956 and 100 <= canceled_ran < 3_956

    done = ledger(finished.id)
    assert done.combinations == done.combinations_run == 175 and done.ended_at is not None
    assert done.compute_seconds == job_row(finished.id).exec_seconds > 0
    assert done.stored_bytes > 175 * ROW_BYTES  # rows and the Top-N's artifact files
    assert ledger(stopped.id).combinations_run == early_ran
    assert ledger(canceled.id).combinations_run == canceled_ran

    body = client.get("/api/v1/usage", headers=headers).json()
    charged = 175 + early_ran + canceled_ran
    assert body["combinationsToday"] == body["combinationsThisMonth"] == charged
    assert body["computeSeconds"] > 0
    stored = body["storedBytes"]
    assert stored >= done.stored_bytes + ledger(stopped.id).stored_bytes

    # The strategy's cost is now measured: the estimate says so.
    estimate = client.get("/api/v1/usage/estimate", headers=headers, params={
        "strategy": "sma_cross", "datasetId": str(backend.dataset_id), "combinations": 1000,
    }).json()
    assert estimate["measured"] is True and estimate["seconds"] > 0

    delete_job(owner_id=backend.owner_id, job_id=finished.id)
    after = client.get("/api/v1/usage", headers=headers).json()
    assert after["combinationsToday"] == charged  # the ledger keeps what ran
    assert after["storedBytes"] == stored - done.stored_bytes
    assert ledger(finished.id).stored_bytes == 0
    with session_scope(readonly=True) as session:
        assert usage_of(session=session, user_id=backend.owner_id).combinations_today == charged

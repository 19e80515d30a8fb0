"""A real small job end to end: submit over HTTP, the orchestrator (local Dask workers) runs it,
status/tasks/history reflect it, the export holds the artifacts the workers wrote, and a
re-run of the best combination reproduces its score."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col

from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import LIVE_STATUSES, Dataset, JobStatus, OptimizationJob
from tests.integration.api.conftest import ApiUser
from tests.integration.api.test_optimizations import job_body, submit

pytestmark = pytest.mark.slow
TERMINAL = {"succeeded", "failed", "early-stopped", "canceled"}


def _retire_other_live_jobs() -> None:
    """Jobs other tests left queued or running (some written by factories, without a real
    grid behind their summary) are not this test's business: take them off the queue."""
    with session_scope() as session:
        session.execute(
            update(OptimizationJob)
            .where(col(OptimizationJob.status).in_([s.value for s in LIVE_STATUSES]))
            .values(status=JobStatus.CANCELED.value, stop_reason="retired by the test suite")
        )


@pytest.fixture(scope="module")
def orchestrator(client: TestClient) -> Iterator[None]:
    from optimizer_app.orchestration import service

    _retire_other_live_jobs()
    service.start_background(wait=True)
    assert service.is_running(), "the orchestrator did not start"
    try:
        yield
    finally:
        service.stop_background()


def wait_terminal(client: TestClient, user: ApiUser, job_id: str, timeout: float = 90.0
                  ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/optimizations/{job_id}/status", headers=user.headers)
        assert status.status_code == 200, status.text
        if status.json()["status"] in TERMINAL:
            return status.json()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_small_job_runs_exports_and_reruns(client: TestClient, alice: ApiUser,
                                           bundled: list[Dataset], orchestrator: None) -> None:
    job = submit(client, alice, job_body(bundled[0].id))
    final = wait_terminal(client, alice, job["id"])
    assert final["status"] == "succeeded", final
    summary = final["summary"]
    assert summary["finished"] + summary["failed"] == summary["total"] == 8
    assert len(summary["topN"]) == 5
    assert final["execSeconds"] is not None and final["queueWaitSeconds"] is not None

    tasks = client.get(f"/api/v1/optimizations/{job['id']}/tasks?limit=100",
                       headers=alice.headers).json()
    assert tasks["count"] == 8
    assert tasks["data"][0]["score"] == summary["topN"][0]["score"]
    assert set(tasks["data"][0]["metrics"]) >= {"sharpe", "finalEquity", "maxDrawdown"}

    response = client.get(f"/api/v1/optimizations/{job['id']}/export", headers=alice.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    top = json.loads(archive.read("topn.json"))
    assert [e["taskId"] for e in top] == [e["taskId"] for e in summary["topN"]]
    for entry in top:
        equity = archive.read(f"artifacts/{entry['taskId']}/equity.csv").decode()
        assert len(equity.splitlines()) > 2000
        trades = list(csv.reader(io.StringIO(
            archive.read(f"artifacts/{entry['taskId']}/trades.csv").decode())))
        assert trades and trades[0]
        assert entry["metrics"]["sharpe"] == entry["score"]

    best = summary["topN"][0]
    space = {name: {"values": [value]} for name, value in best["params"].items()}
    rerun = submit(client, alice, job_body(bundled[0].id, paramSpace=space,
                                           sourceJobId=job["id"]))
    rerun_final = wait_terminal(client, alice, rerun["id"])
    assert rerun_final["status"] == "succeeded"
    assert rerun_final["summary"]["topN"][0]["score"] == pytest.approx(best["score"], rel=1e-12)
    source = client.get(f"/api/v1/optimizations/{job['id']}", headers=alice.headers).json()
    assert source["rerunIds"] == [rerun["id"]]

"""Quotas and usage over HTTP: 429 quota_exceeded with its details, GET /usage, the admin
routes, estimates before submit, and queue diagnostics on /status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer_app.core.config import settings
from optimizer_app.orchestration.usage import ROW_BYTES
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, JobStatus, UsageRecord, utcnow
from tests.integration.api.conftest import ApiUser, assert_error, stored_job
from tests.integration.api.test_optimizations import job_body, submit

USAGE_KEYS = {"combinationsToday", "combinationsThisMonth", "computeSeconds", "storedBytes",
              "quotas"}
EIGHT = 8  # combinations of job_body's grid


def usage(client: TestClient, user: ApiUser) -> dict[str, Any]:
    response = client.get("/api/v1/usage", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def midnight_after(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def test_usage_of_a_new_user_is_zero_with_the_deployment_quotas(client: TestClient,
                                                                alice: ApiUser) -> None:
    body = usage(client, alice)
    assert set(body) == USAGE_KEYS
    assert body["combinationsToday"] == body["combinationsThisMonth"] == 0
    assert body["computeSeconds"] == 0 and body["storedBytes"] == 0
    assert body["quotas"] == {
        "liveJobs": settings.max_live_jobs_per_user,
        "combinationsPerDay": settings.quota_combinations_per_day,
        "storedBytes": settings.quota_stored_bytes,
        "workerShare": settings.quota_worker_share,
    }


def test_submits_count_in_usage_and_another_users_do_not(client: TestClient, alice: ApiUser,
                                                         bob: ApiUser,
                                                         bundled: list[Dataset]) -> None:
    for _ in range(2):
        submit(client, alice, job_body(bundled[0].id))
    mine = usage(client, alice)
    assert mine["combinationsToday"] == mine["combinationsThisMonth"] == 2 * EIGHT
    assert mine["storedBytes"] > 0  # a live job reserves what it would store
    assert usage(client, bob)["combinationsToday"] == 0


def test_combinations_per_day_quota_is_429_with_details(
    client: TestClient, alice: ApiUser, bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "quota_combinations_per_day", 12)
    submit(client, alice, job_body(bundled[0].id))
    before = client.get("/metrics").text
    refused = client.post("/api/v1/optimizations", headers=alice.headers,
                          json=job_body(bundled[0].id))
    error = assert_error(refused, 429, "quota_exceeded")
    now = datetime.now(UTC)
    assert error["details"] == [{
        "quota": "combinationsPerDay", "limit": 12, "used": EIGHT,
        "resetsAt": midnight_after(now).isoformat(),
    }]
    assert "combinations per day" in error["message"] and "00:00 UTC" in error["message"]
    assert _refusals(client.get("/metrics").text) == _refusals(before) + 1
    # Nothing was stored or charged for the refused job.
    assert usage(client, alice)["combinationsToday"] == EIGHT


def _refusals(metrics: str, quota: str = "combinationsPerDay") -> float:
    for line in metrics.splitlines():
        if line.startswith(f'quota_refusals_total{{quota="{quota}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_live_jobs_and_stored_bytes_are_quotas_too(
    client: TestClient, alice: ApiUser, bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_live_jobs_per_user", 1)
    monkeypatch.setattr(settings, "quota_stored_bytes", EIGHT * ROW_BYTES + 100)
    submit(client, alice, job_body(bundled[0].id))
    error = assert_error(client.post("/api/v1/optimizations", headers=alice.headers,
                                     json=job_body(bundled[0].id)), 429, "quota_exceeded")
    by_quota = {d["quota"]: d for d in error["details"]}
    assert by_quota["liveJobs"] == {"quota": "liveJobs", "limit": 1, "used": 1,
                                    "resetsAt": None}
    assert by_quota["storedBytes"]["limit"] == EIGHT * ROW_BYTES + 100
    assert by_quota["storedBytes"]["used"] == EIGHT * ROW_BYTES
    assert by_quota["storedBytes"]["resetsAt"] is None


def test_zero_means_no_limit(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "quota_combinations_per_day", 0)
    submit(client, alice, job_body(bundled[0].id))
    assert usage(client, alice)["quotas"]["combinationsPerDay"] is None


def test_admin_sees_every_users_usage_and_sets_quotas(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "admin_emails", f" {alice.email.upper()} , other@example.com")
    submit(client, bob, job_body(bundled[0].id))
    put = client.put(f"/api/v1/admin/users/{bob.id}/quotas", headers=alice.headers,
                     json={"combinationsPerDay": 10, "workerShare": 0.5})
    assert put.status_code == 200, put.text
    assert put.json()["quotas"]["combinationsPerDay"] == 10
    assert put.json()["overrides"]["liveJobs"] is None  # the deployment's default

    listed = client.get("/api/v1/admin/usage?limit=500", headers=alice.headers)
    assert listed.status_code == 200, listed.text
    rows = {row["email"]: row for row in listed.json()["data"]}
    assert rows[bob.email]["combinationsToday"] == EIGHT and rows[bob.email]["liveJobs"] == 1
    assert rows[bob.email]["quotas"]["workerShare"] == 0.5
    assert rows[alice.email]["admin"] is True and rows[bob.email]["admin"] is False
    assert usage(client, bob)["quotas"]["combinationsPerDay"] == 10

    refused = client.post("/api/v1/optimizations", headers=bob.headers,
                          json=job_body(bundled[0].id))
    assert assert_error(refused, 429, "quota_exceeded")["details"][0]["limit"] == 10
    # Back to the default: bob may submit again.
    reset = client.put(f"/api/v1/admin/users/{bob.id}/quotas", headers=alice.headers, json={})
    assert reset.json()["quotas"]["combinationsPerDay"] == settings.quota_combinations_per_day
    submit(client, bob, job_body(bundled[0].id))


def test_admin_routes_refuse_everyone_else(client: TestClient, alice: ApiUser, bob: ApiUser,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "admin_emails", alice.email)
    assert_error(client.get("/api/v1/admin/usage", headers=bob.headers), 403, "forbidden")
    assert_error(client.put(f"/api/v1/admin/users/{bob.id}/quotas", headers=bob.headers,
                            json={"liveJobs": 100}), 403, "forbidden")
    assert_error(client.get("/api/v1/admin/usage"), 401)
    assert_error(client.put(f"/api/v1/admin/users/{uuid.uuid4()}/quotas",
                            headers=alice.headers, json={}), 404)
    assert_error(client.put(f"/api/v1/admin/users/{bob.id}/quotas", headers=alice.headers,
                            json={"workerShare": 2}), 422)
    assert_error(client.put(f"/api/v1/admin/users/{bob.id}/quotas", headers=alice.headers,
                            json={"cpus": 2}), 422)


def test_estimate_before_submit(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = bundled[0]
    query = {"strategy": "donchian_breakout", "datasetId": str(dataset.id),
             "combinations": 1000}
    first = client.get("/api/v1/usage/estimate", headers=alice.headers, params=query)
    assert first.status_code == 200, first.text
    assert first.json()["combinations"] == 1000 and first.json()["seconds"] > 0
    assert first.json()["storedBytes"] == 1000 * ROW_BYTES and first.json()["exceeds"] == []
    # A job of the strategy ended: 4 s for 2,000 combinations on 1,000 bars.
    with session_scope() as session:
        session.add(UsageRecord(job_id=uuid.uuid4(), owner_id=alice.id,
                                strategy="donchian_breakout", dataset_rows=1000,
                                combinations=2000, combinations_run=2000, compute_seconds=4.0,
                                ended_at=utcnow()))
    measured = client.get("/api/v1/usage/estimate", headers=alice.headers, params=query).json()
    assert measured["measured"] is True
    assert measured["seconds"] == pytest.approx(1000 * dataset.rows * 4.0 / (2000 * 1000))

    monkeypatch.setattr(settings, "quota_combinations_per_day", 500)
    warned = client.get("/api/v1/usage/estimate", headers=alice.headers, params=query).json()
    assert [p["quota"] for p in warned["exceeds"]] == ["combinationsPerDay"]
    bad = client.get("/api/v1/usage/estimate", headers=alice.headers,
                     params={**query, "strategy": "nope"})
    assert_error(bad, 422)


def test_a_queued_job_says_where_it_stands_and_when_it_should_start(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]
) -> None:
    jobs = [submit(client, alice, job_body(bundled[0].id)) for _ in range(3)]
    running = stored_job(bob, bundled[0], status=JobStatus.RUNNING)
    queues = []
    for job in jobs:
        body = client.get(f"/api/v1/optimizations/{job['id']}/status",
                          headers=alice.headers).json()
        assert set(body["queue"]) == {"position", "reason", "estimatedStart"}
        queues.append(body["queue"])
    first = queues[0]["position"]
    assert [q["position"] for q in queues] == [first, first + 1, first + 2]
    last = queues[2]
    assert "queue" in last["reason"] and "queued ahead of it" in last["reason"]
    assert "combinations/s" in last["reason"]
    start = datetime.fromisoformat(last["estimatedStart"])
    assert start.tzinfo is not None and start >= datetime.now(UTC) - timedelta(seconds=5)
    # Not queued: no queue block.
    other = client.get(f"/api/v1/optimizations/{running}/status", headers=bob.headers).json()
    assert other["status"] == "running" and other["queue"] is None

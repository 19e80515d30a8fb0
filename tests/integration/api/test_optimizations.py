"""POST/GET /optimizations, detail, status, tasks, cancel: success paths and every failure."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer_app.core.config import settings
from optimizer_app.persistence.models import Dataset, JobStatus
from tests.integration.api.conftest import ApiUser, assert_error, stored_job

STATUS_KEYS = {"id", "status", "summary", "stopReason", "queueWaitSeconds", "execSeconds",
               "updatedAt", "queue"}


def job_body(dataset_id: object, **override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "sma sweep",
        "strategy": "sma_cross",
        "datasetId": str(dataset_id),
        "paramSpace": {"fast": {"start": 5, "stop": 20, "step": 5}, "slow": {"values": [30, 60]}},
        "earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 5},
    }
    body.update(override)
    return {k: v for k, v in body.items() if v is not None}


def submit(client: TestClient, user: ApiUser, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/optimizations", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_submit_returns_the_queued_job(client: TestClient, alice: ApiUser,
                                       bundled: list[Dataset]) -> None:
    job = submit(client, alice, job_body(bundled[0].id,
                                         backtestOptions={"direction": "long_short"}))
    assert job["status"] == "queued"
    assert job["summary"]["total"] == 8 and job["summary"]["finished"] == 0
    assert job["summary"]["topN"] == []
    assert job["strategy"] == "sma_cross" and job["datasetId"] == str(bundled[0].id)
    assert job["sourceJobId"] is None and job["rerunIds"] == []
    assert job["earlyStopPolicy"]["metric"] == "sharpe"
    assert job["backtestOptions"]["direction"] == "long_short"

    detail = client.get(f"/api/v1/optimizations/{job['id']}", headers=alice.headers)
    assert detail.status_code == 200
    assert detail.json()["id"] == job["id"] and detail.json()["name"] == "sma sweep"

    status = client.get(f"/api/v1/optimizations/{job['id']}/status", headers=alice.headers)
    assert status.status_code == 200
    assert set(status.json()) == STATUS_KEYS
    assert set(status.json()["summary"]) == {"total", "finished", "failed", "constrained",
                                             "failures", "topN"}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"strategy": None}, "strategy"),
        ({"strategy": "no_such_strategy"}, "strategy"),
        ({"paramSpace": {"fast": {"values": [5]}}}, "paramSpace"),
        ({"paramSpace": {"fast": {"values": [5]}, "slow": {"values": [30]},
                         "extra": {"values": [1]}}}, "paramSpace"),
        ({"paramSpace": {"fast": {"values": [5]}, "slow": {"values": [100000]}}}, "paramSpace"),
        ({"paramSpace": {"fast": {"values": ["five"]}, "slow": {"values": [30]}}}, "paramSpace"),
        ({"paramSpace": {"fast": {"values": [50]}, "slow": {"values": [10]}}}, "paramSpace"),
        ({"paramSpace": {"fast": {"start": 20, "stop": 5, "step": 1},
                         "slow": {"values": [30]}}}, "paramSpace"),
        ({"earlyStopPolicy": {"mode": "sideways", "metric": "sharpe"}}, "earlyStopPolicy"),
        ({"earlyStopPolicy": {"mode": "max", "metric": "luck"}}, "earlyStopPolicy"),
        ({"earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 1000}},
         "earlyStopPolicy"),
        ({"backtestOptions": {"commission": -1}}, "backtestOptions"),
        ({"backtestOptions": {"leverage": 10}}, "backtestOptions"),
        ({"datasetId": "not-a-uuid"}, "datasetId"),
        ({"color": "blue"}, "color"),
        ({"name": "x" * 500}, "name"),
    ],
    ids=["missing-strategy", "unknown-strategy", "missing-param", "unknown-param",
         "out-of-range", "wrong-type", "empty-grid", "reversed-range", "bad-mode", "bad-metric",
         "topn-too-big", "negative-commission", "unknown-option", "bad-dataset-id",
         "unknown-field", "long-name"],
)
def test_invalid_bodies_are_422(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                                override: dict[str, Any], field: str) -> None:
    body = job_body(bundled[0].id, **override)
    if override.get("strategy", "") is None:
        body.pop("strategy", None)
    error = assert_error(client.post("/api/v1/optimizations", headers=alice.headers, json=body),
                         422, "validation_error")
    assert error["details"], error
    assert field in str(error["details"]) or field in error["message"], error


def test_grid_over_the_cap_is_422(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "grid_cap", 5)
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=job_body(bundled[0].id))
    assert_error(response, 422, "validation_error")


def test_malformed_json_is_400(client: TestClient, alice: ApiUser) -> None:
    response = client.post("/api/v1/optimizations", content=b'{"strategy": ',
                           headers={**alice.headers, "Content-Type": "application/json"})
    assert_error(response, 400)


def test_unknown_or_foreign_dataset_is_rejected(client: TestClient, alice: ApiUser,
                                                bob: ApiUser) -> None:
    from tests.integration.api.test_catalog import csv_bytes

    upload = client.post("/api/v1/datasets", headers=bob.headers,
                         files={"file": ("b.csv", csv_bytes(), "text/csv")})
    for dataset_id in (upload.json()["id"], str(uuid.uuid4())):
        response = client.post("/api/v1/optimizations", headers=alice.headers,
                               json=job_body(dataset_id))
        assert_error(response, 404, "not_found")


def test_history_is_newest_first_and_paginated(client: TestClient, alice: ApiUser,
                                               bob: ApiUser, bundled: list[Dataset]) -> None:
    ids = [str(stored_job(alice, bundled[0], name=f"job {i}", age_seconds=100 - i))
           for i in range(5)]
    stored_job(bob, bundled[0])
    page = client.get("/api/v1/optimizations?limit=2", headers=alice.headers).json()
    assert page["count"] == 5
    assert [j["id"] for j in page["data"]] == ids[::-1][:2]
    rest = client.get("/api/v1/optimizations?limit=2&offset=4", headers=alice.headers).json()
    assert [j["id"] for j in rest["data"]] == [ids[0]]
    whole = client.get("/api/v1/optimizations", headers=alice.headers).json()
    assert [j["id"] for j in whole["data"]] == ids[::-1]
    first = whole["data"][0]
    assert first["progress"] == 1.0 and first["bestScore"] is not None
    assert first["status"] == "succeeded"


def test_history_filters_by_status(client: TestClient, alice: ApiUser, bundled: list[Dataset]
                                   ) -> None:
    canceled = stored_job(alice, bundled[0], status=JobStatus.CANCELED)
    stored_job(alice, bundled[0], status=JobStatus.SUCCEEDED)
    page = client.get("/api/v1/optimizations?status=canceled", headers=alice.headers).json()
    assert [j["id"] for j in page["data"]] == [str(canceled)] and page["count"] == 1
    assert_error(client.get("/api/v1/optimizations?status=nope", headers=alice.headers), 422)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
def test_bad_pagination_is_422(client: TestClient, alice: ApiUser, query: str) -> None:
    assert_error(client.get(f"/api/v1/optimizations?{query}", headers=alice.headers), 422,
                 "validation_error")


def test_tasks_sorted_by_score_in_the_policy_direction(client: TestClient, alice: ApiUser,
                                                       bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=7, failed=1)
    url = f"/api/v1/optimizations/{job_id}/tasks"
    best = client.get(url, headers=alice.headers).json()
    assert best["count"] == 7
    scores = [t["score"] for t in best["data"]]
    assert scores[:-1] == sorted(scores[:-1], reverse=True) and scores[-1] is None
    assert best["data"][0]["metrics"]["sharpe"] == scores[0]
    assert {a["name"] for a in best["data"][0]["artifacts"]} == {"equity.csv", "trades.csv"}
    assert all("uri" not in a for a in best["data"][0]["artifacts"])
    worst_first = client.get(f"{url}?order=asc", headers=alice.headers).json()
    assert [t["score"] for t in worst_first["data"]][:6] == sorted(scores[:-1])
    by_index = client.get(f"{url}?sort=index&limit=3&offset=2", headers=alice.headers).json()
    assert [t["index"] for t in by_index["data"]] == [2, 3, 4]
    assert_error(client.get(f"{url}?sort=params", headers=alice.headers), 422)


def test_tasks_of_a_min_job_put_lowest_first(client: TestClient, alice: ApiUser,
                                             bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], mode="min", metric="maxDrawdown")
    data = client.get(f"/api/v1/optimizations/{job_id}/tasks", headers=alice.headers).json()
    scores = [t["score"] for t in data["data"]]
    assert scores == sorted(scores)


def test_cancel_a_queued_job(client: TestClient, alice: ApiUser, bundled: list[Dataset]) -> None:
    job = submit(client, alice, job_body(bundled[0].id))
    response = client.post(f"/api/v1/optimizations/{job['id']}/cancel", headers=alice.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == STATUS_KEYS
    assert response.json()["status"] == "canceled"
    again = client.post(f"/api/v1/optimizations/{job['id']}/cancel", headers=alice.headers)
    assert_error(again, 409)


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED,
                                    JobStatus.EARLY_STOPPED, JobStatus.CANCELED])
def test_cancel_of_a_terminal_job_is_409(client: TestClient, alice: ApiUser,
                                         bundled: list[Dataset], status: JobStatus) -> None:
    job_id = stored_job(alice, bundled[0], status=status)
    response = client.post(f"/api/v1/optimizations/{job_id}/cancel", headers=alice.headers)
    assert_error(response, 409)
    after = client.get(f"/api/v1/optimizations/{job_id}/status", headers=alice.headers).json()
    assert after["status"] == status.value


def test_live_job_limit_is_429(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_live_jobs_per_user", 2)
    for _ in range(2):
        submit(client, alice, job_body(bundled[0].id))
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=job_body(bundled[0].id))
    assert_error(response, 429, "quota_exceeded")


def test_status_of_a_missing_or_malformed_id_is_404(client: TestClient, alice: ApiUser) -> None:
    for job_id in (str(uuid.uuid4()), "nope", "123"):
        for suffix in ("", "/status", "/tasks", "/export"):
            response = client.get(f"/api/v1/optimizations/{job_id}{suffix}",
                                  headers=alice.headers)
            assert_error(response, 404, "not_found")
        assert_error(client.post(f"/api/v1/optimizations/{job_id}/cancel",
                                 headers=alice.headers), 404)


def test_a_grid_the_workers_cannot_run_is_refused_whatever_the_cap(
    client: TestClient, alice: ApiUser, bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One limit end to end: a cap configured above the engine's own limit does not let a
    grid through that every chunk would then fail on."""
    from optimizer_app.domain.worker import WORKER_GRID_CAP

    monkeypatch.setattr(settings, "grid_cap", WORKER_GRID_CAP * 10)
    space = {"period": {"start": 5, "stop": 200, "step": 1},  # 196 x 116,668 = 22.9 million
             "k": {"start": 0.5, "stop": 4.0, "step": 0.00003}}
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=job_body(bundled[0].id, strategy="bollinger_breakout",
                                         paramSpace=space))
    error = assert_error(response, 422, "validation_error")
    assert "10,000,000" in str(error) or "10000000" in str(error), error


@pytest.mark.parametrize(
    ("constraints", "problem"),
    [
        ([{"metric": "luck", "op": ">=", "value": 1}], "constraints.0.metric"),
        ([{"metric": "trades", "op": "=>", "value": 1}], "constraints.0.op"),
        ([{"metric": "trades", "op": ">=", "value": "many"}], "constraints.0.value"),
        ([{"metric": "trades", "op": ">="}], "constraints.0.value"),
        ({"metric": "trades"}, "constraints"),
        ([{"metric": "trades", "op": ">=", "value": 1}] * 21, "constraints"),
    ],
    ids=["unknown-metric", "unknown-op", "not-a-number", "missing-value", "not-a-list",
         "too-many"],
)
def test_invalid_constraints_are_422_naming_the_field(
    client: TestClient, alice: ApiUser, bundled: list[Dataset], constraints: Any, problem: str
) -> None:
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=job_body(bundled[0].id, constraints=constraints))
    error = assert_error(response, 422, "validation_error")
    assert any(d["field"].startswith(problem) for d in error["details"]), error


def test_constraints_are_stored_and_shown_and_default_to_none(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    plain = submit(client, alice, job_body(bundled[0].id))
    assert plain["constraints"] == [] and plain["summary"]["constrained"] == 0
    constraints = [{"metric": "trades", "op": ">=", "value": 10},
                   {"metric": "maxDrawdown", "op": "<=", "value": 0.3}]
    job = submit(client, alice, job_body(bundled[0].id, constraints=constraints))
    assert job["constraints"] == [{"metric": "trades", "op": ">=", "value": 10.0},
                                  {"metric": "maxDrawdown", "op": "<=", "value": 0.3}]
    again = client.get(f"/api/v1/optimizations/{job['id']}", headers=alice.headers).json()
    assert again["constraints"] == job["constraints"]
    status = client.get(f"/api/v1/optimizations/{job['id']}/status", headers=alice.headers)
    assert status.json()["summary"]["constrained"] == 0


def test_grid_order_defaults_to_shuffled_with_a_stored_seed(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job = submit(client, alice, job_body(bundled[0].id))
    assert job["gridOrder"] == "shuffled" and isinstance(job["seed"], int)
    kept = submit(client, alice, job_body(bundled[0].id, gridOrder="sequential", seed=7))
    assert (kept["gridOrder"], kept["seed"]) == ("sequential", 7)
    again = client.get(f"/api/v1/optimizations/{kept['id']}", headers=alice.headers).json()
    assert (again["gridOrder"], again["seed"]) == ("sequential", 7)
    for bad in ({"gridOrder": "random"}, {"seed": -1}, {"seed": "abc"}, {"seed": 2**60}):
        response = client.post("/api/v1/optimizations", headers=alice.headers,
                               json=job_body(bundled[0].id, **bad))
        assert_error(response, 422, "validation_error")

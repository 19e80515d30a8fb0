"""X-Request-ID handling, the error shape's requestId, and the Prometheus metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.api.conftest import ApiUser, assert_error


def test_request_id_is_generated_when_absent(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_request_id_is_echoed_and_lands_in_errors(client: TestClient) -> None:
    response = client.get("/api/v1/optimizations", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"
    assert assert_error(response, 401)["requestId"] == "trace-abc.123"


def test_unsafe_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_unknown_api_route_is_404_in_the_error_shape(client: TestClient, alice: ApiUser) -> None:
    assert_error(client.get("/api/v1/nope", headers=alice.headers), 404, "not_found")
    # the path exists, the method does not: 405, naming the allowed methods
    error = assert_error(client.delete("/api/v1/strategies", headers=alice.headers), 405)
    assert "GET" in error["message"]


def test_metrics_expose_latency_by_route_and_job_metrics(client: TestClient, alice: ApiUser
                                                         ) -> None:
    assert client.get("/api/v1/strategies", headers=alice.headers).status_code == 200
    text = client.get("/metrics").text
    assert re.search(
        r'http_request_duration_seconds_bucket\{[^}]*route="/api/v1/strategies"[^}]*\}', text)
    for name in ("queue_wait_seconds_bucket", "job_exec_seconds_bucket", "tasks_finished_total",
                 "tasks_failed_total", "export_seconds_bucket", "export_failures_total"):
        assert name in text, name

"""The status and health polls are answered before routing (``api/polling.py``): every answer
must be the FastAPI route's own — status code, body, error shape, headers — which this compares
against an app built without that shortcut, on the same database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient

from optimizer_app.api.main import create_api
from optimizer_app.core import security
from optimizer_app.core.config import settings
from optimizer_app.core.metrics import render_latest
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, stored_job

COMPARED_HEADERS = ("content-type", "www-authenticate", "x-frame-options",
                    "content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def routed(bundled: list[Dataset]) -> Iterator[TestClient]:
    """The same API with every request going through FastAPI's router."""
    with TestClient(create_api(polling_routes=False), raise_server_exceptions=False) as client:
        yield client


def _same(fast: TestClient, routed: TestClient, path: str, headers: dict[str, str]) -> None:
    a, b = fast.get(path, headers=headers), routed.get(path, headers=headers)
    assert a.status_code == b.status_code, (path, a.text, b.text)
    body_a, body_b = a.json(), b.json()
    if "error" in body_a:  # request ids differ by design
        assert body_a["error"].pop("requestId") and body_b["error"].pop("requestId")
    assert body_a == body_b, path
    for name in COMPARED_HEADERS:
        assert a.headers.get(name) == b.headers.get(name), (path, name)
    assert a.headers["x-request-id"]


def test_status_answers_are_the_routes_own(client: TestClient, routed: TestClient,
                                           alice: ApiUser, bob: ApiUser,
                                           bundled: list[Dataset]) -> None:
    job = stored_job(alice, bundled[0], tasks=5)
    status = f"/api/v1/optimizations/{job}/status"
    expired = jwt.encode({"sub": str(alice.id), "exp": int(time.time()) - 3600,
                          "iat": int(time.time()) - 7200, "aud": settings.jwt_audience,
                          "iss": settings.jwt_issuer}, settings.jwt_secret, algorithm="HS256")
    cases = [
        (status, alice.headers),  # 200
        (status, bob.headers),  # someone else's job: 404
        (f"/api/v1/optimizations/{uuid.uuid4()}/status", alice.headers),  # no such job
        ("/api/v1/optimizations/not-a-uuid/status", alice.headers),  # 404
        ("/api/v1/optimizations/not-a-uuid/status", {}),  # the token comes first: 401
        (status, {}),  # no token
        (status, {"Authorization": "Basic abc"}),  # not a bearer token
        (status, {"Authorization": "Bearer"}),  # no credentials
        (status, {"Authorization": "Bearer not.a.token"}),
        (status, {"Authorization": f"Bearer {expired}"}),
        ("/healthz", {}),
    ]
    for path, headers in cases:
        _same(client, routed, path, headers)
    assert client.get(status, headers=alice.headers).json()["id"] == str(job)


def test_paths_it_does_not_answer_reach_the_router(client: TestClient, alice: ApiUser,
                                                   bundled: list[Dataset]) -> None:
    job = stored_job(alice, bundled[0], tasks=5)
    assert client.post(f"/api/v1/optimizations/{job}/status",
                       headers=alice.headers).status_code == 405
    assert client.get(f"/api/v1/optimizations/{job}/status/extra",
                      headers=alice.headers).status_code == 404
    assert client.get(f"/api/v1/optimizations/{job}", headers=alice.headers).status_code == 200


def test_polls_are_counted_under_their_route(client: TestClient, alice: ApiUser,
                                             bundled: list[Dataset]) -> None:
    job = stored_job(alice, bundled[0], tasks=5)
    client.get(f"/api/v1/optimizations/{job}/status", headers=alice.headers)
    client.get("/healthz")
    text = render_latest().decode()
    assert 'route="/api/v1/optimizations/{id}/status"' in text
    assert 'route="/healthz"' in text


def test_a_verified_token_is_remembered_until_it_expires(alice: ApiUser,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert security.decode_access_token(alice.token) == alice.id
    calls = []
    monkeypatch.setattr(security, "_verify", lambda token: calls.append(token))
    assert security.decode_access_token(alice.token) == alice.id  # remembered
    assert calls == []
    key = next(k for k in security._VERIFIED if k[0] == alice.token)
    security._VERIFIED[key] = (alice.id, time.time() - security.LEEWAY_SECONDS - 1)
    with pytest.raises(security.InvalidToken, match="expired"):
        security.decode_access_token(alice.token)


def test_answered_polls_are_not_access_logged_but_refused_ones_are(
        client: TestClient, alice: ApiUser, bundled: list[Dataset]) -> None:
    from loguru import logger

    job = stored_job(alice, bundled[0], tasks=5)
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name,
                                              m.record["extra"].get("path", ""))),
                      level="INFO", filter=lambda r: r["message"] == "http request")
    try:
        client.get(f"/api/v1/optimizations/{job}/status", headers=alice.headers)
        client.get("/healthz")
        client.get(f"/api/v1/optimizations/{uuid.uuid4()}/status", headers=alice.headers)
        client.get(f"/api/v1/optimizations/{job}", headers=alice.headers)
    finally:
        logger.remove(sink)
    paths = [path for _, path in lines]
    assert f"/api/v1/optimizations/{job}/status" not in paths
    assert "/healthz" not in paths
    assert any(p.endswith("/status") for p in paths)  # the 404
    assert f"/api/v1/optimizations/{job}" in paths

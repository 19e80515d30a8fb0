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
from tests.integration.api.conftest import ApiUser, register, stored_job

COMPARED_HEADERS = ("content-type", "www-authenticate", "x-frame-options",
                    "content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def routed(bundled: list[Dataset]) -> Iterator[TestClient]:
    """The same API with every request going through FastAPI's router."""
    with TestClient(create_api(shortcuts=False), raise_server_exceptions=False) as client:
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


# --- submits answered before routing (api/submit_route.py) ------------------------------------

_VOLATILE = ("id", "createdAt", "updatedAt")


def _submit_body(dataset: Dataset, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "compare", "strategy": "sma_cross", "datasetId": str(dataset.id), "seed": 7,
        "paramSpace": {"fast": {"start": 5, "stop": 9, "step": 1}, "slow": {"values": [30]}},
        "earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 5},
    }
    body.update(overrides)
    return body


def _same_submit(fast: TestClient, routed: TestClient, headers: dict[str, str],
                 content: bytes, content_type: str | None = "application/json") -> int:
    sent = dict(headers)
    if content_type is not None:
        sent["Content-Type"] = content_type
    a = fast.post("/api/v1/optimizations", content=content, headers=sent)
    b = routed.post("/api/v1/optimizations", content=content, headers=sent)
    assert a.status_code == b.status_code, (content[:80], a.text, b.text)
    body_a, body_b = a.json(), b.json()
    if a.status_code >= 400:
        assert body_a["error"].pop("requestId") and body_b["error"].pop("requestId")
    else:
        assert body_a["id"] != body_b["id"]  # two jobs
        for key in _VOLATILE:
            body_a.pop(key), body_b.pop(key)
    assert body_a == body_b, content[:80]
    for name in COMPARED_HEADERS:
        assert a.headers.get(name) == b.headers.get(name), name
    return a.status_code


def test_submit_answers_are_the_routes_own(client: TestClient, routed: TestClient,
                                           bundled: list[Dataset]) -> None:
    import json

    user = register(client)
    good = json.dumps(_submit_body(bundled[0])).encode()
    cases: list[tuple[dict[str, str], bytes, str | None, int]] = [
        (user.headers, good, "application/json", 201),  # the shortcut's own path
        (user.headers, good, "application/json; charset=utf-8", 201),
        ({}, good, "application/json", 401),  # no token
        ({"Authorization": "Basic abc"}, good, "application/json", 401),
        ({"Authorization": "Bearer not.a.token"}, good, "application/json", 401),
        (user.headers, b"{not json", "application/json", 400),
        (user.headers, b"[1, 2]", "application/json", 422),
        (user.headers, good, "text/plain", 422),
        (user.headers, good, None, 422),  # no media type: not read as JSON
        (user.headers, json.dumps(_submit_body(bundled[0], name="a\u0000b")).encode(),
         "application/json", 422),  # NUL: the app-wide check
        (user.headers, json.dumps({"name": "missing fields"}).encode(), "application/json", 422),
        (user.headers, json.dumps(_submit_body(bundled[0], strategy="nope")).encode(),
         "application/json", 422),  # refused by the service: an AppError on both paths
        (user.headers, json.dumps(_submit_body(bundled[0], datasetId=str(uuid.uuid4()))).encode(),
         "application/json", 404),
    ]
    for headers, content, content_type, expected in cases:
        got = _same_submit(client, routed, headers, content, content_type)
        assert got == expected, (content[:60], content_type, got)
    # the live-job limit (5; both paths created one job per 201 above): 429 on both
    while client.post("/api/v1/optimizations", json=_submit_body(bundled[0]),
                      headers=user.headers).status_code == 201:
        pass
    assert _same_submit(client, routed, user.headers, good) == 429


def test_a_well_formed_submit_takes_the_shortcut(client: TestClient, bundled: list[Dataset],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """It never reaches FastAPI's route (whose body validation would run)."""
    from optimizer_app.api import submit_route

    user = register(client)
    taken: list[str] = []
    real = submit_route.submit_in_lane
    monkeypatch.setattr(submit_route, "submit_in_lane",
                        lambda token, job: taken.append(job.name or "") or real(token, job))
    response = client.post("/api/v1/optimizations", json=_submit_body(bundled[0], name="short"),
                           headers=user.headers)
    assert response.status_code == 201, response.text
    assert taken == ["short"]
    assert 'route="/api/v1/optimizations"' in render_latest().decode()
    bad = client.post("/api/v1/optimizations", content=b"{not json",
                      headers={**user.headers, "Content-Type": "application/json"})
    assert bad.status_code == 400 and taken == ["short"]  # refused by FastAPI, not here

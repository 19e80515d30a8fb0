"""Bounded requests and hostile input: body caps (declared and streamed), media types per route,
Reflex's upload endpoint, odd JSON, the values cap, security headers and CORS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import reflex as rx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from optimizer_app.api.cors import add_cors, install
from optimizer_app.api.main import create_api
from optimizer_app.api.middleware import MULTIPART_OVERHEAD, SECURITY_HEADERS
from optimizer_app.core.config import settings
from optimizer_app.core.metrics import REQUESTS_REFUSED
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, assert_error, register
from tests.integration.api.test_catalog import csv_bytes
from tests.support.run_async import run_async

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}


def _job_body(dataset: Dataset, **override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "strategy": "sma_cross",
        "datasetId": str(dataset.id),
        "paramSpace": {"fast": {"values": [5]}, "slow": {"values": [20]}},
        "earlyStopPolicy": {"mode": "max", "metric": "sharpe"},
    }
    body.update(override)
    return body


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def _refused(reason: str) -> float:
    return REQUESTS_REFUSED.labels(reason)._value.get()


# --- body caps ------------------------------------------------------------------------------


def test_json_body_over_the_cap_with_content_length_is_413(client: TestClient,
                                                          alice: ApiUser) -> None:
    before = _refused("payload_too_large")
    body = b'{"name": "' + b"x" * (settings.max_json_bytes + 10) + b'"}'
    response = client.post("/api/v1/optimizations", content=body,
                           headers={**alice.headers, **JSON})
    error = assert_error(response, 413, "payload_too_large")
    assert f"{settings.max_json_bytes:,} bytes" in error["message"]
    assert _refused("payload_too_large") == before + 1
    # the unread body must not be taken for the next request on the connection
    assert response.headers["connection"] == "close"


def test_oversized_body_without_token_is_413_before_auth(client: TestClient) -> None:
    """64 MiB to /auth/token was read whole and then refused with 401."""
    body = b"{" + b" " * (2 * MiB) + b"}"
    assert_error(client.post("/api/v1/auth/token", content=body, headers=JSON), 413)


def test_chunked_json_body_over_the_cap_is_413(client: TestClient, alice: ApiUser) -> None:
    response = client.post("/api/v1/optimizations", content=_chunks(3 * MiB),
                           headers={**alice.headers, **JSON})
    assert "content-length" not in response.request.headers  # streamed (chunked)
    assert_error(response, 413, "payload_too_large")
    assert response.headers["connection"] == "close"


def test_body_at_the_cap_is_accepted(client: TestClient, alice: ApiUser,
                                     bundled: list[Dataset]) -> None:
    body = json.dumps(_job_body(bundled[0])).encode()
    padded = body[:-1] + b" " * (settings.max_json_bytes - len(body)) + b"}"
    assert len(padded) == settings.max_json_bytes
    response = client.post("/api/v1/optimizations", content=padded,
                           headers={**alice.headers, **JSON})
    assert response.status_code == 201, response.text


def _run_asgi(app: Any, scope: dict[str, Any], chunks: Iterator[bytes]) -> tuple[int, int]:
    """Drive ``app`` with a streamed body; return (status, bytes the app pulled)."""
    pulled = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    run_async(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    return start["status"], pulled


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80)}


def test_a_64_mib_streamed_body_is_refused_after_about_the_cap(migrated_db: str) -> None:
    """The app stops pulling the body just past the cap: nothing like 64 MiB is read."""
    scope = _scope("/api/v1/auth/token", [(b"content-type", b"application/json")])
    status, pulled = _run_asgi(create_api(), scope, _chunks(64 * MiB))
    assert status == 413
    assert settings.max_json_bytes < pulled <= settings.max_json_bytes + 64 * 1024


def test_declared_oversize_is_refused_without_reading_anything(migrated_db: str) -> None:
    scope = _scope("/api/v1/auth/token", [(b"content-type", b"application/json"),
                                          (b"content-length", str(64 * MiB).encode())])
    status, pulled = _run_asgi(create_api(), scope, _chunks(64 * MiB))
    assert (status, pulled) == (413, 0)


def test_dataset_upload_has_the_upload_cap_not_the_json_cap(
    client: TestClient, alice: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_json_bytes", 1024)
    ok = client.post("/api/v1/datasets", headers=alice.headers,
                     files={"file": ("own.csv", csv_bytes(), "text/csv")})
    assert ok.status_code == 201, ok.text
    monkeypatch.setattr(settings, "upload_max_bytes", 4096)
    big = b"date,open,high,low,close,volume\n" + b"2020-01-01,1,1,1,1,1\n" * 20_000
    response = client.post("/api/v1/datasets", headers=alice.headers,
                           files={"file": ("big.csv", big, "text/csv")})
    assert_error(response, 413, "payload_too_large")
    assert f"{4096 + MULTIPART_OVERHEAD:,}" in response.json()["error"]["message"]


# --- media types per route --------------------------------------------------------------------


def test_multipart_outside_the_upload_routes_is_415(client: TestClient, alice: ApiUser) -> None:
    files = {"file": ("x.bin", b"x" * 1000, "application/octet-stream")}
    assert_error(client.post("/api/v1/auth/token", files=files, data={"username": "a"}), 415,
                 "unsupported_media_type")
    assert_error(client.post("/api/v1/optimizations", headers=alice.headers, files=files), 415,
                 "unsupported_media_type")


def test_form_bodies_only_on_the_token_route(client: TestClient, alice: ApiUser) -> None:
    response = client.post("/api/v1/auth/token",
                           data={"username": alice.email, "password": "correct horse battery"})
    assert response.status_code == 200, response.text
    assert_error(client.post("/api/v1/auth/register", data={"email": "a@b.co"}), 415,
                 "unsupported_media_type")


# --- Reflex's upload endpoint -------------------------------------------------------------------


def _with_fake_reflex_upload(guard: Any) -> tuple[FastAPI, list[int]]:
    """The composition Reflex makes: its backend (with /_upload) mounted inside the API app."""
    read: list[int] = []

    async def upload(request: Request) -> PlainTextResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        read.append(size)
        return PlainTextResponse("stored")

    api = create_api(upload_guard=guard)
    api.mount("", Starlette(routes=[Route("/_upload", upload, methods=["POST"])]))
    return api, read


def test_reflex_upload_needs_a_signed_in_tab(migrated_db: str) -> None:
    async def guard(token: str) -> bool:
        return token == "signed-in-tab"

    api, read = _with_fake_reflex_upload(guard)
    client = TestClient(api, raise_server_exceptions=False)
    files = {"files": ("a.csv", b"date,open\n", "text/csv")}
    for headers in ({}, {"reflex-client-token": "anonymous-tab"}):
        response = client.post("/_upload", files=files, headers=headers)
        assert_error(response, 401, "unauthorized")
    assert read == []  # refused before the body was read
    ok = client.post("/_upload", files=files, headers={"reflex-client-token": "signed-in-tab"})
    assert ok.status_code == 200 and ok.text == "stored"
    assert ok.headers["x-frame-options"] == "DENY"


def test_reflex_upload_is_refused_without_a_guard(migrated_db: str) -> None:
    api, read = _with_fake_reflex_upload(None)
    response = TestClient(api).post("/_upload", files={"files": ("a.csv", b"x", "text/csv")},
                                    headers={"reflex-client-token": "any"})
    assert_error(response, 401)
    assert read == []


def test_reflex_upload_is_capped_while_streaming(migrated_db: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async def guard(token: str) -> bool:
        return True

    monkeypatch.setattr(settings, "upload_max_bytes", 64 * 1024)
    api, read = _with_fake_reflex_upload(guard)
    headers = [(b"content-type", b"multipart/form-data; boundary=x"),
               (b"reflex-client-token", b"tab")]
    status, pulled = _run_asgi(api, _scope("/_upload", headers), _chunks(64 * MiB))
    assert status == 413
    assert pulled <= 64 * 1024 + MULTIPART_OVERHEAD + 64 * 1024
    assert read == []  # the handler saw a client that went away, and stored nothing


# --- odd JSON -----------------------------------------------------------------------------------

SURROGATE_NAME = '"\\ud800"'


def _raw(body: dict[str, Any], **raw_fields: str) -> bytes:
    """``body`` as JSON with some fields' raw JSON text put in verbatim."""
    text = json.dumps(body)[:-1]
    for key, raw in raw_fields.items():
        text += f', "{key}": {raw}'
    return (text + "}").encode()


@pytest.mark.parametrize(
    "raw",
    {
        "lone-surrogate-escape": {"name": SURROGATE_NAME},
        "lone-surrogate-key": {"backtestOptions": '{"\\udc00": 1}'},
        "surrogate-in-constraints": {"constraints": '[{"metric": "\\ud83d", "op": ">=", '
                                                     '"value": 1}]'},
        "5000-digit-number": {"name": "9" * 5000},
        "5000-digit-seed": {"seed": "1" * 5000},
    }.values(),
    ids=["lone-surrogate-escape", "lone-surrogate-key", "surrogate-in-constraints",
         "5000-digit-number", "5000-digit-seed"],
)
def test_odd_json_in_a_job_body_is_4xx(client: TestClient, bundled: list[Dataset],
                                       raw: dict[str, str]) -> None:
    user = register(client)
    body = _raw(_job_body(bundled[0]), **raw)
    response = client.post("/api/v1/optimizations", content=body,
                           headers={**user.headers, **JSON})
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code)


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/token"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "a\\ud800@example.com", "password": "correct horse battery"}',
        b'{"email": "ab@example.com", "password": "correct horse \\udfff"}',
        b'{"email": "ab@example.com", "password": "correct horse \xed\xa0\x80"}',  # CESU-8 bytes
        b'{"email": ' + b"7" * 5000 + b', "password": "correct horse battery"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"email": "ab@example.com", "password": "correct horse battery"' + b"}" * 3,
        b"\xff\xfe{}",
    ],
    ids=["surrogate-email", "surrogate-password", "cesu8-bytes", "5000-digits", "deep-nesting",
         "trailing-garbage", "bad-utf8"],
)
def test_odd_json_to_auth_is_4xx(client: TestClient, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers=JSON)
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code)


def test_deep_nesting_in_a_job_body_is_400(client: TestClient, alice: ApiUser) -> None:
    body = b'{"paramSpace": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = client.post("/api/v1/optimizations", content=body,
                           headers={**alice.headers, **JSON})
    assert_error(response, 400, "malformed_json")


def test_a_lone_surrogate_names_its_field(client: TestClient, bundled: list[Dataset]) -> None:
    user = register(client)
    body = _raw(_job_body(bundled[0]), name=SURROGATE_NAME)
    response = client.post("/api/v1/optimizations", content=body,
                           headers={**user.headers, **JSON})
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == "name"


def test_a_nul_character_is_refused_naming_its_field(client: TestClient,
                                                     bundled: list[Dataset]) -> None:
    """PostgreSQL cannot store NUL in text: refused on every backend, before anything runs."""
    user = register(client)
    for raw in ({"name": '"a\\u0000b"'}, {"backtestOptions": '{"a\\u0000": 1}'}):
        response = client.post("/api/v1/optimizations", content=_raw(_job_body(bundled[0]), **raw),
                               headers={**user.headers, **JSON})
        error = assert_error(response, 422, "validation_error")
        assert "NUL" in error["message"]
    assert error["details"][0]["field"] == "backtestOptions"
    assert client.get("/api/v1/optimizations", headers=user.headers).json()["count"] == 0


def test_validation_errors_never_quote_the_rejected_value(client: TestClient,
                                                          bundled: list[Dataset]) -> None:
    secret = "correct horse battery staple"
    response = client.post("/api/v1/auth/register", json=["z@example.com", secret])
    error = assert_error(response, 422, "validation_error")
    assert secret not in response.text and "input" not in error["details"][0]
    user = register(client)
    huge = "x" * 300_000
    response = client.post("/api/v1/optimizations", headers=user.headers,
                           json=_job_body(bundled[0], name=huge, **{huge: 1}))
    error = assert_error(response, 422, "validation_error")
    assert len(response.content) < 5_000
    assert {d["field"][:4] for d in error["details"]} == {"name", "xxxx"}


# --- values cap ---------------------------------------------------------------------------------


def test_values_list_above_the_cap_is_422_naming_the_parameter(
    client: TestClient, bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = register(client)
    monkeypatch.setattr(settings, "max_param_values", 100)
    space = {"fast": {"values": list(range(2, 103))}, "slow": {"values": [150]}}
    response = client.post("/api/v1/optimizations", headers=user.headers,
                           json=_job_body(bundled[0], paramSpace=space))
    error = assert_error(response, 422)
    assert "paramSpace.fast.values" in json.dumps(error)
    assert "at most 100 values" in error["message"]
    space["fast"] = {"values": list(range(2, 102))}  # exactly 100
    ok = client.post("/api/v1/optimizations", headers=user.headers,
                     json=_job_body(bundled[0], paramSpace=space))
    assert ok.status_code == 201, ok.text


def test_default_values_cap_is_ten_thousand(client: TestClient, alice: ApiUser,
                                            bundled: list[Dataset]) -> None:
    assert settings.max_param_values == 10_000
    space = {"fast": {"values": [5] * 10_001}, "slow": {"values": [20]}}
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=_job_body(bundled[0], paramSpace=space))
    error = assert_error(response, 422)
    assert "paramSpace.fast.values" in json.dumps(error) and "10,000" in error["message"]


# --- headers and CORS ---------------------------------------------------------------------------


def _assert_security_headers(response: Any) -> None:
    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), (name, response.headers)


def test_security_headers_on_api_answers_and_errors(client: TestClient, alice: ApiUser) -> None:
    _assert_security_headers(client.get("/api/v1/strategies", headers=alice.headers))
    _assert_security_headers(client.get("/api/v1/optimizations"))  # 401
    _assert_security_headers(client.get("/healthz"))
    _assert_security_headers(client.post("/api/v1/auth/token", content=b"{" * 10, headers=JSON))


def test_security_headers_on_pages_served_through_the_app(migrated_db: str) -> None:
    """Pages (and any route Reflex mounts) are inside the API app: they get the headers too."""
    api = create_api()

    async def page(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("<html>page</html>", media_type="text/html")

    api.mount("", Starlette(routes=[Route("/optimizations/new", page)]))
    response = TestClient(api).get("/optimizations/new")
    assert response.status_code == 200 and "page" in response.text
    _assert_security_headers(response)


EVIL = {"Origin": "https://evil.example"}
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization"}


def _with_cors(origins: list[str] | None = None) -> TestClient:
    """The API with the CORS layer it gets when Reflex composes the backend (``add_cors``
    stands in for Reflex's own; ``None``: the origins configured in rxconfig.py)."""
    api = create_api()
    add_cors(api, origins)
    return TestClient(api)


def test_reflex_composes_the_backend_with_our_cors_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rx.App, "_add_cors", rx.App._add_cors)  # restored after the test
    install()
    assert rx.App._add_cors is add_cors


def test_no_cors_layer_by_default(migrated_db: str, alice: ApiUser) -> None:
    """No origin allowed: no CORS header at all, and a preflight is an ordinary request (in
    the error shape, with the request id and the security headers)."""
    client = _with_cors()
    response = client.get("/api/v1/strategies", headers={**alice.headers, **EVIL})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("access-control-")]
    preflight = client.options("/api/v1/optimizations", headers={**EVIL, **PREFLIGHT})
    assert_error(preflight, 405)
    assert not [h for h in preflight.headers if h.startswith("access-control-")]
    assert preflight.headers.get("x-request-id")
    _assert_security_headers(preflight)


def test_configured_origins_get_cors_and_others_an_error(migrated_db: str,
                                                          alice: ApiUser) -> None:
    client = _with_cors(["https://app.example.com"])
    allowed = {"Origin": "https://app.example.com"}
    preflight = client.options("/api/v1/optimizations", headers={**allowed, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    answer = client.get("/api/v1/strategies", headers={**alice.headers, **allowed})
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    _assert_security_headers(answer)

    refused = client.options("/api/v1/optimizations", headers={**EVIL, **PREFLIGHT})
    error = assert_error(refused, 403)
    assert "origin" in error["message"].lower()
    assert refused.headers.get("x-request-id") == error["requestId"]
    assert "access-control-allow-origin" not in refused.headers
    _assert_security_headers(refused)
    other = client.get("/api/v1/strategies", headers={**alice.headers, **EVIL})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_configured_cors_origins_are_allowed(migrated_db: str) -> None:
    """OPTIMIZER_CORS_ORIGINS feeds rxconfig's cors_allowed_origins."""
    from optimizer_app.core.config import Settings

    configured = Settings(cors_origins="https://app.example.com/, https://b.example")
    assert configured.cors_origin_list == ["https://app.example.com", "https://b.example"]
    import rxconfig

    assert list(rxconfig.config.cors_allowed_origins) == settings.cors_origin_list == []

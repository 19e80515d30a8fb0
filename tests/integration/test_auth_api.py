"""Auth endpoints and the error shape, through HTTP against the ASGI app."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from optimizer_app.api.main import create_api


@pytest.fixture(scope="module")
def client(migrated_db: str) -> TestClient:
    return TestClient(create_api())


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@example.com"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "requestId"}
    assert error["message"] and isinstance(error["message"], str)
    assert error["requestId"] == response.headers["x-request-id"]
    if code:
        assert error["code"] == code
    return error


def test_register_then_token_json_and_form(client: TestClient) -> None:
    email = _email()
    r = client.post("/api/v1/auth/register", json={"email": email, "password": "s3cret-pass-word"})
    assert r.status_code == 201
    assert r.json()["email"] == email and uuid.UUID(r.json()["id"])
    r = client.post("/api/v1/auth/token", json={"email": email, "password": "s3cret-pass-word"})
    assert r.status_code == 200
    body = r.json()
    assert body["tokenType"] == "bearer" and body["expiresIn"] > 0 and body["accessToken"]
    r = client.post("/api/v1/auth/token", data={"username": email, "password": "s3cret-pass-word"})
    assert r.status_code == 200 and r.json()["accessToken"]


def test_email_is_case_insensitive(client: TestClient) -> None:
    email = _email()
    client.post("/api/v1/auth/register", json={"email": email.upper(), "password": "s3cret-pass-word"})
    r = client.post("/api/v1/auth/token", json={"email": email, "password": "s3cret-pass-word"})
    assert r.status_code == 200


def test_duplicate_email_is_409(client: TestClient) -> None:
    email = _email()
    client.post("/api/v1/auth/register", json={"email": email, "password": "s3cret-pass-word"})
    r = client.post("/api/v1/auth/register", json={"email": email, "password": "other-pass-word"})
    assert_error_shape(r, 409, "conflict")


def test_wrong_password_and_unknown_user_are_the_same_401(client: TestClient) -> None:
    email = _email()
    client.post("/api/v1/auth/register", json={"email": email, "password": "s3cret-pass-word"})
    wrong = client.post("/api/v1/auth/token", json={"email": email, "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"email": _email(), "password": "nope-nope"})
    e1 = assert_error_shape(wrong, 401, "unauthorized")
    e2 = assert_error_shape(unknown, 401, "unauthorized")
    assert e1["message"] == e2["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "s3cret-pass-word"},
        {"email": "a@b.co", "password": "short"},
        {"email": "a@b.co"},
        {},
    ],
)
def test_bad_register_bodies_are_422(client: TestClient, body: dict) -> None:
    error = assert_error_shape(client.post("/api/v1/auth/register", json=body), 422)
    assert error["details"]


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_error_shape(r, 400, "malformed_json")
    r = client.post(
        "/api/v1/auth/token", content=b"{", headers={"content-type": "application/json"}
    )
    assert_error_shape(r, 400, "malformed_json")


def test_unknown_api_route_is_404_in_the_error_shape(client: TestClient) -> None:
    assert_error_shape(client.get("/api/v1/does-not-exist"), 404, "not_found")


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) >= 16


def test_healthz_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    client.get("/healthz")
    text = client.get("/metrics").text
    assert "http_request_duration_seconds_bucket" in text and 'route="/healthz"' in text


def test_unhandled_errors_are_500_without_a_stack_trace(migrated_db: str) -> None:
    app = create_api()

    @app.get("/api/v1/boom-for-test")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.router.routes.insert(0, app.router.routes.pop())  # before the /api catch-all

    r = TestClient(app, raise_server_exceptions=False).get("/api/v1/boom-for-test")
    error = assert_error_shape(r, 500, "internal_error")
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert error["details"] == []


def test_wrong_method_on_an_existing_route_is_405(client: TestClient) -> None:
    error = assert_error_shape(client.get("/api/v1/auth/register"), 405, "method_not_allowed")
    assert "POST" in error["message"]


def test_openapi_documents_the_error_shape(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    responses = schema["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"401", "404", "422"} <= set(responses)
    assert "ErrorResponse" in schema["components"]["schemas"]

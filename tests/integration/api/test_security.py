"""Authentication and authorization: token forgeries, production settings, ownership of every
route with an id, 401 on every non-public route, CSV formula escaping in exports."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import ValidationError as PydanticValidationError

from optimizer_app.core.config import DEFAULT_JWT_SECRET, Settings, settings
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, OptimizationJob
from tests.integration.api.conftest import ApiUser, assert_error, stored_job
from tests.integration.api.test_catalog import csv_bytes

PUBLIC_ROUTES = {("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/token")}
STRONG_SECRET = "s" * 48
PATH_PARAM = re.compile(r"\{[^}]+\}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: ApiUser, **override: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user.id), "iat": now, "nbf": now, "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
    }
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def _raw_token(header: dict[str, Any], payload: dict[str, Any], key: bytes | None,
               digest: Any = hashlib.sha256) -> str:
    def encode(obj: dict[str, Any]) -> str:
        return _b64(json.dumps(obj, default=lambda d: int(d.timestamp())).encode())

    signing_input = f"{encode(header)}.{encode(payload)}"
    signature = "" if key is None else _b64(hmac.new(key, signing_input.encode(), digest).digest())
    return f"{signing_input}.{signature}"


def _forgeries(user: ApiUser) -> dict[str, str]:
    secret = settings.jwt_secret
    good = jwt.encode(_claims(user), secret, algorithm="HS256")
    head, body, sig = good.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered_claims["sub"] = str(uuid.uuid4())
    return {
        "alg-none": _raw_token({"alg": "none", "typ": "JWT"}, _claims(user), None),
        "alg-None-capitalized": _raw_token({"alg": "None", "typ": "JWT"}, _claims(user), None),
        "hs512-right-secret": jwt.encode(_claims(user), secret, algorithm="HS512"),
        "rs256-header": _raw_token({"alg": "RS256", "typ": "JWT"}, _claims(user),
                                   secret.encode()),
        "wrong-secret": jwt.encode(_claims(user), "x" * 40, algorithm="HS256"),
        "wrong-audience": jwt.encode(_claims(user, aud="someone-else"), secret, algorithm="HS256"),
        "wrong-issuer": jwt.encode(_claims(user, iss="evil"), secret, algorithm="HS256"),
        "expired": jwt.encode(
            _claims(user, exp=datetime.now(UTC) - timedelta(minutes=5),
                    iat=datetime.now(UTC) - timedelta(hours=1),
                    nbf=datetime.now(UTC) - timedelta(hours=1)),
            secret, algorithm="HS256"),
        "no-exp": jwt.encode(_claims(user, exp=None), secret, algorithm="HS256"),
        "no-sub": jwt.encode(_claims(user, sub=None), secret, algorithm="HS256"),
        "tampered-payload": f"{head}.{_b64(json.dumps(tampered_claims).encode())}.{sig}",
        "tampered-signature": f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}",
        "unknown-user": jwt.encode(_claims(user, sub=str(uuid.uuid4())), secret,
                                   algorithm="HS256"),
        "garbage": "not.a.token",
    }


def test_a_genuine_token_is_accepted(client: TestClient, alice: ApiUser) -> None:
    token = jwt.encode(_claims(alice), settings.jwt_secret, algorithm="HS256")
    response = client.get("/api/v1/strategies", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("kind", list(_forgeries(ApiUser(uuid.uuid4(), "x@example.com", ""))))
def test_forged_tokens_are_401(client: TestClient, alice: ApiUser, kind: str) -> None:
    token = _forgeries(alice)[kind]
    response = client.get("/api/v1/optimizations", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


# --- production settings ----------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPTIMIZER_ARGON2_MEMORY_KIB", "OPTIMIZER_ARGON2_TIME_COST",
                 "OPTIMIZER_ARGON2_PARALLELISM", "OPTIMIZER_JWT_SECRET", "OPTIMIZER_ENV"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_argon2_cost_meets_owasp_minimum(clean_env: pytest.MonkeyPatch) -> None:
    config = Settings(env="production", jwt_secret=STRONG_SECRET)
    assert config.argon2_memory_kib >= 19 * 1024
    assert config.argon2_time_cost >= 2
    assert config.argon2_parallelism >= 1


@pytest.mark.parametrize(
    "override",
    [
        {"jwt_secret": DEFAULT_JWT_SECRET},
        {"jwt_secret": "short-secret"},
        {"jwt_secret": STRONG_SECRET, "argon2_memory_kib": 1024},
        {"jwt_secret": STRONG_SECRET, "argon2_time_cost": 1},
    ],
    ids=["default-secret", "short-secret", "weak-memory", "weak-time"],
)
def test_production_refuses_unsafe_settings(clean_env: pytest.MonkeyPatch,
                                            override: dict[str, Any]) -> None:
    with pytest.raises(PydanticValidationError):
        Settings(env="production", **override)


def test_production_refuses_default_secret_from_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("OPTIMIZER_ENV", "production")
    with pytest.raises(PydanticValidationError):
        Settings()


# --- every route: owner check and authentication ----------------------------------------------


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the REST API, included routers flattened."""
    routes = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/api/v1/"):
            routes.extend((method, context.path) for method in sorted(context.methods or ()))
    assert len(routes) >= 12, routes
    return routes


def _owned_ids(client: TestClient, user: ApiUser, bundled: list[Dataset]) -> dict[str, str]:
    upload = client.post("/api/v1/datasets", headers=user.headers,
                         files={"file": ("own.csv", csv_bytes(), "text/csv")})
    assert upload.status_code == 201, upload.text
    job_id = stored_job(user, bundled[0])
    with session_scope() as session:  # a validated job, so that GET …/validation exists
        job = session.get(OptimizationJob, job_id)
        assert job is not None
        job.validation, job.validation_state = {"kind": "holdout", "fraction": 0.3}, "pending"
        session.add(job)
    return {"/api/v1/datasets/": upload.json()["id"], "/api/v1/optimizations/": str(job_id)}


def test_every_route_with_an_id_hides_other_owners_resources(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]
) -> None:
    ids = _owned_ids(client, alice, bundled)
    checked = []
    # DELETE last (it removes the resource), and the other owner's try first
    routes = sorted(_api_routes(client), key=lambda route: route[0] == "DELETE")
    for method, path in routes:
        if "{" not in path or path.startswith("/api/v1/admin/"):
            continue  # admin routes answer 403 to everyone else (tests/.../test_quotas.py)
        prefix = next((p for p in ids if path.startswith(p)), None)
        assert prefix is not None, f"{method} {path}: add its resource to this test"
        url = PATH_PARAM.sub(ids[prefix], path.replace("{index}", "0"))  # combination 0
        if method != "DELETE":
            as_owner = client.request(method, url, headers=alice.headers)
            assert as_owner.status_code != 404, f"{method} {url} should exist for its owner"
        response = client.request(method, url, headers=bob.headers)
        assert_error(response, 404, "not_found")
        if method == "DELETE":
            as_owner = client.request(method, url, headers=alice.headers)
            assert as_owner.status_code != 404, f"{method} {url} should exist for its owner"
        checked.append(path)
    assert len(checked) >= 7


@pytest.mark.parametrize("auth", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_every_non_public_route_needs_a_token(client: TestClient, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    for method, path in _api_routes(client):
        if (method, path) in PUBLIC_ROUTES:
            continue
        url = PATH_PARAM.sub("not-a-uuid", path)
        response = client.request(method, url, headers=headers, json={})
        assert_error(response, 401, "unauthorized")

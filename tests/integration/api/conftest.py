"""API tests: the FastAPI app in-process (TestClient) on the migrated SQLite test database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from optimizer_app.api.main import create_api
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset
from optimizer_app.services.bootstrap import ensure_bundled_datasets
from tests.support.factories import JobSpec, make_job

PASSWORD = "correct horse battery"


@dataclass
class ApiUser:
    id: uuid.UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def bundled(migrated_db: str) -> list[Dataset]:
    with session_scope() as session:
        return ensure_bundled_datasets(session=session)


@pytest.fixture(scope="session")
def client(bundled: list[Dataset]) -> Iterator[TestClient]:
    with TestClient(create_api(), raise_server_exceptions=False) as test_client:
        yield test_client


def register(client: TestClient) -> ApiUser:
    email = f"u{uuid.uuid4().hex[:12]}@example.com"
    created = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return ApiUser(uuid.UUID(created.json()["id"]), email, token.json()["accessToken"])


@pytest.fixture
def alice(client: TestClient) -> ApiUser:
    return register(client)


@pytest.fixture
def bob(client: TestClient) -> ApiUser:
    return register(client)


@pytest.fixture
def db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def stored_job(user: ApiUser, dataset: Dataset, **spec: object) -> uuid.UUID:
    """A job written straight to the database (committed), owned by ``user``."""
    with session_scope() as session:
        job = make_job(session, owner_id=user.id, dataset_id=dataset.id, spec=JobSpec(**spec))
        return job.id


def assert_error(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The one error shape, with the request id echoed in the header."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details", "requestId"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["requestId"] == response.headers["x-request-id"]
    if code is not None:
        assert error["code"] == code, error
    return error

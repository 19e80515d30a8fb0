"""The status poll is cheap: one read of the job's status columns by primary key and owner,
nothing else, on the read-only engine (never the write lock) and with no BEGIN around it (one
statement is its own snapshot); the account is read only when there is no such job, to tell a
gone account (401) from a missing job (404)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event
from sqlmodel import col

from optimizer_app.persistence.db import get_engine, session_scope
from optimizer_app.persistence.models import Dataset, JobStatus, User
from tests.integration.api.conftest import ApiUser, assert_error, register, stored_job


@pytest.fixture
def statements() -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"read": [], "write": []}
    listeners = []
    for readonly, kind in ((True, "read"), (False, "write")):
        engine = get_engine(readonly)

        def record(_conn, _cursor, statement, *_args, kind=kind):  # type: ignore[no-untyped-def]
            seen[kind].append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    yield seen
    for engine, record in listeners:
        event.remove(engine, "before_cursor_execute", record)


def _selects(statements: dict[str, list[str]]) -> list[str]:
    assert statements["write"] == [], "status must not use the writer engine"
    return [s for s in statements["read"] if s.upper().startswith("SELECT")]


@pytest.mark.parametrize("status", [JobStatus.RUNNING, JobStatus.SUCCEEDED])
def test_status_reads_one_row_by_key_and_owner(
    client: TestClient, alice: ApiUser, bundled: list[Dataset],
    statements: dict[str, list[str]], status: JobStatus,
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=20, status=status)
    statements["read"].clear()
    statements["write"].clear()
    response = client.get(f"/api/v1/optimizations/{job_id}/status", headers=alice.headers)
    assert response.status_code == 200 and response.json()["status"] == status.value
    assert response.json()["summary"]["finished"] == 20
    selects = _selects(statements)
    assert len(selects) == 1, selects
    assert statements["read"] == selects, "nothing but the one SELECT (no BEGIN, no COMMIT)"
    assert "FROM optimization_jobs" in selects[0]
    assert "optimization_jobs.id = ?" in selects[0]
    assert "optimization_jobs.owner_id = ?" in selects[0]
    # the columns a status shows, not the job's parameter space or options
    assert "optimization_jobs.summary" in selects[0]
    assert "param_space" not in selects[0] and "backtest_options" not in selects[0]


def test_status_of_a_missing_job_reads_the_account_then_404(
    client: TestClient, alice: ApiUser, statements: dict[str, list[str]],
) -> None:
    statements["read"].clear()
    response = client.get(f"/api/v1/optimizations/{uuid.uuid4()}/status", headers=alice.headers)
    assert_error(response, 404, "not_found")
    selects = _selects(statements)
    assert len(selects) == 2 and "FROM users" in selects[1], selects


def test_status_with_the_token_of_a_gone_account_is_401(
    client: TestClient, alice: ApiUser, bundled: list[Dataset],
) -> None:
    job_id = stored_job(alice, bundled[0])
    gone = register(client)
    with session_scope() as session:
        session.execute(delete(User).where(col(User.id) == gone.id))
    response = client.get(f"/api/v1/optimizations/{job_id}/status", headers=gone.headers)
    assert_error(response, 401, "unauthorized")
    assert client.get(f"/api/v1/optimizations/{job_id}/status",
                      headers=alice.headers).status_code == 200

"""The status poll is cheap: it reads the user and the job by primary key, nothing else, on
the read-only engine (deferred BEGIN, never the write lock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from optimizer_app.persistence.db import get_engine
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, stored_job


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


def test_status_reads_two_rows_by_key_and_never_tasks(
    client: TestClient, alice: ApiUser, bundled: list[Dataset],
    statements: dict[str, list[str]],
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=20)
    statements["read"].clear()
    statements["write"].clear()
    response = client.get(f"/api/v1/optimizations/{job_id}/status", headers=alice.headers)
    assert response.status_code == 200
    assert statements["write"] == [], "status must not use the writer engine"
    selects = [s for s in statements["read"] if s.upper().startswith("SELECT")]
    assert len(selects) == 2, selects
    assert "FROM users" in selects[0] and "WHERE users.id = ?" in selects[0]
    assert "FROM optimization_jobs" in selects[1]
    assert "optimization_jobs.id = ?" in selects[1]
    assert "optimization_jobs.owner_id = ?" in selects[1]
    assert not any("optimization_tasks" in s or "result_summaries" in s
                   for s in statements["read"])

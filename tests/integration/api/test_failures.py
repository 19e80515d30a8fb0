"""Failures over REST: failed tasks listed by status with their category, summary.failures,
failures.csv in the export, and the re-run of a job's failed combinations (SPEC §7)."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile

from fastapi.testclient import TestClient

from optimizer_app.domain.subset import decode_subset
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, JobStatus, OptimizationJob
from tests.integration.api.conftest import ApiUser, assert_error, stored_job

API = "/api/v1/optimizations"


def test_failed_tasks_are_listed_with_their_category(client: TestClient, alice: ApiUser,
                                                     bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=6, failed=2, failure_category="strategy")
    failed = client.get(f"{API}/{job_id}/tasks?status=failed&sort=index", headers=alice.headers)
    assert failed.status_code == 200, failed.text
    body = failed.json()
    assert body["count"] == 2
    assert [t["index"] for t in body["data"]] == [4, 5]
    assert {t["status"] for t in body["data"]} == {"failed"}
    assert {t["errorCategory"] for t in body["data"]} == {"strategy"}
    assert all(t["error"] == "worker died" for t in body["data"])

    succeeded = client.get(f"{API}/{job_id}/tasks?status=succeeded", headers=alice.headers)
    assert succeeded.json()["count"] == 4
    assert all(t["errorCategory"] is None for t in succeeded.json()["data"])
    assert client.get(f"{API}/{job_id}/tasks", headers=alice.headers).json()["count"] == 6

    error = assert_error(client.get(f"{API}/{job_id}/tasks?status=exploded",
                                    headers=alice.headers), 422, "validation_error")
    assert "status" in str(error["details"])


def test_summary_counts_failures_by_category(client: TestClient, alice: ApiUser,
                                             bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=5, failed=3, failure_category="timeout")
    status = client.get(f"{API}/{job_id}/status", headers=alice.headers).json()
    assert status["summary"]["failures"] == {"timeout": 3}
    assert status["summary"]["failed"] == 3
    detail = client.get(f"{API}/{job_id}", headers=alice.headers).json()
    assert detail["summary"]["failures"] == {"timeout": 3}


def test_another_users_failed_tasks_are_404(client: TestClient, alice: ApiUser, bob: ApiUser,
                                            bundled: list[Dataset]) -> None:
    job_id = stored_job(bob, bundled[0], failed=1)
    assert_error(client.get(f"{API}/{job_id}/tasks?status=failed", headers=alice.headers), 404)


def test_export_adds_failures_csv(client: TestClient, alice: ApiUser,
                                  bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=6, failed=2, failure_category="data")
    response = client.get(f"{API}/{job_id}/export", headers=alice.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = list(csv.DictReader(io.StringIO(archive.read("failures.csv").decode())))
    assert list(rows[0]) == ["index", "fast", "slow", "category", "error", "attempts"]
    assert [(r["index"], r["fast"], r["slow"], r["category"], r["error"], r["attempts"])
            for r in rows] == [("4", "9", "60", "data", "worker died", "1"),
                               ("5", "10", "60", "data", "worker died", "1")]


def test_export_without_failures_has_no_failures_csv(client: TestClient, alice: ApiUser,
                                                     bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0])
    response = client.get(f"{API}/{job_id}/export", headers=alice.headers)
    assert "failures.csv" not in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def _rerun(client: TestClient, user: ApiUser, source: uuid.UUID, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(API, headers=user.headers,
                       json={"sourceJobId": str(source), "rerun": "failed", **extra})


def test_rerun_failed_copies_the_source_over_its_failed_indices(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    source_id = stored_job(alice, bundled[0], tasks=6, failed=2, name="sweep")
    response = _rerun(client, alice, source_id)
    assert response.status_code == 201, response.text
    rerun = response.json()
    source = client.get(f"{API}/{source_id}", headers=alice.headers).json()
    assert rerun["status"] == "queued" and rerun["rerun"] == "failed"
    assert rerun["sourceJobId"] == str(source_id) and rerun["sourceJobName"] == "sweep"
    assert rerun["name"] == "sweep (failed re-run)"
    assert rerun["summary"]["total"] == 2 and rerun["summary"]["failures"] == {}
    for key in ("strategy", "datasetId", "paramSpace", "earlyStopPolicy", "backtestOptions",
                "constraints", "gridOrder"):
        assert rerun[key] == source[key], key
    with session_scope(readonly=True) as session:
        row = session.get(OptimizationJob, uuid.UUID(rerun["id"]))
        assert row is not None and row.combination_subset is not None
        assert decode_subset(row.combination_subset).tolist() == [4, 5]
    assert client.get(f"{API}/{source_id}", headers=alice.headers).json()["rerunIds"] == [
        rerun["id"]
    ]
    named = _rerun(client, alice, source_id, name="second try")
    assert named.status_code == 201 and named.json()["name"] == "second try"


def test_rerun_failed_is_refused_clearly(client: TestClient, alice: ApiUser, bob: ApiUser,
                                         bundled: list[Dataset]) -> None:
    clean = stored_job(alice, bundled[0])
    error = assert_error(_rerun(client, alice, clean), 409, "conflict")
    assert "no failed combinations" in error["message"]

    live = stored_job(alice, bundled[0], status=JobStatus.RUNNING, failed=1)
    error = assert_error(_rerun(client, alice, live), 409, "conflict")
    assert "still running" in error["message"]

    failed = stored_job(alice, bundled[0], failed=1)
    error = assert_error(_rerun(client, alice, failed, strategy="rsi_reversion"), 422,
                         "validation_error")
    assert "strategy" in error["message"] and "copies" in error["message"]
    error = assert_error(client.post(API, headers=alice.headers, json={"rerun": "failed"}), 422)
    assert "sourceJobId" in error["message"]
    assert_error(client.post(API, headers=alice.headers,
                             json={"sourceJobId": str(failed), "rerun": "everything"}), 422)

    assert_error(_rerun(client, alice, stored_job(bob, bundled[0], failed=1)), 404)
    assert_error(_rerun(client, alice, uuid.uuid4()), 404)


def test_a_new_job_still_needs_its_fields(client: TestClient, alice: ApiUser) -> None:
    error = assert_error(client.post(API, headers=alice.headers, json={"name": "x"}), 422,
                         "validation_error")
    fields = {d["field"] for d in error["details"]}
    assert fields == {"strategy", "datasetId", "paramSpace", "earlyStopPolicy"}

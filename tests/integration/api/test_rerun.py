"""Re-runs: POST /optimizations with sourceJobId, lineage on the job and in the history."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from optimizer_app.persistence.models import Dataset, JobStatus
from tests.integration.api.conftest import ApiUser, assert_error, stored_job
from tests.integration.api.test_optimizations import job_body, submit


def test_rerun_of_a_job_is_linked_both_ways(client: TestClient, alice: ApiUser,
                                            bundled: list[Dataset]) -> None:
    source_id = stored_job(alice, bundled[0], status=JobStatus.EARLY_STOPPED, name="original")
    source = client.get(f"/api/v1/optimizations/{source_id}", headers=alice.headers).json()
    body = job_body(bundled[0].id, name="original (re-run)", paramSpace=source["paramSpace"],
                    earlyStopPolicy=source["earlyStopPolicy"], sourceJobId=str(source_id))
    rerun = submit(client, alice, body)
    assert rerun["status"] == "queued" and rerun["sourceJobId"] == str(source_id)
    assert rerun["summary"]["total"] == 6

    detail = client.get(f"/api/v1/optimizations/{rerun['id']}", headers=alice.headers).json()
    assert detail["sourceJobId"] == str(source_id)
    assert detail["sourceJobName"] == "original"
    source_after = client.get(f"/api/v1/optimizations/{source_id}", headers=alice.headers).json()
    assert source_after["rerunIds"] == [rerun["id"]]

    history = client.get("/api/v1/optimizations", headers=alice.headers).json()["data"]
    by_id = {j["id"]: j for j in history}
    assert by_id[rerun["id"]]["sourceJobId"] == str(source_id)
    assert by_id[rerun["id"]]["sourceJobName"] == "original"
    assert by_id[str(source_id)]["rerunIds"] == [rerun["id"]]
    assert history[0]["id"] == rerun["id"]


def test_rerun_of_one_combination_is_a_single_value_grid(client: TestClient, alice: ApiUser,
                                                         bundled: list[Dataset]) -> None:
    source_id = stored_job(alice, bundled[0])
    status = client.get(f"/api/v1/optimizations/{source_id}/status", headers=alice.headers)
    best = status.json()["summary"]["topN"][0]
    space = {name: {"values": [value]} for name, value in best["params"].items()}
    first = submit(client, alice, job_body(bundled[0].id, paramSpace=space,
                                           sourceJobId=str(source_id)))
    second = submit(client, alice, job_body(bundled[0].id, paramSpace=space,
                                            sourceJobId=str(source_id)))
    assert first["summary"]["total"] == 1 and first["sourceJobId"] == str(source_id)
    assert first["paramSpace"] == space
    source = client.get(f"/api/v1/optimizations/{source_id}", headers=alice.headers).json()
    assert source["rerunIds"] == [first["id"], second["id"]]


def test_rerun_of_someone_elses_or_unknown_job_is_404(client: TestClient, alice: ApiUser,
                                                      bob: ApiUser, bundled: list[Dataset]
                                                      ) -> None:
    foreign = stored_job(bob, bundled[0])
    for source_id in (foreign, uuid.uuid4()):
        response = client.post("/api/v1/optimizations", headers=alice.headers,
                               json=job_body(bundled[0].id, sourceJobId=str(source_id)))
        assert_error(response, 404, "not_found")
    bob_view = client.get(f"/api/v1/optimizations/{foreign}", headers=bob.headers).json()
    assert bob_view["rerunIds"] == []

"""POST /optimizations with `validation`, GET …/validation and …/stability, and the export's
validation.json: the contract, owner scoping and every refusal."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer_app.orchestration.validation import compute_validation
from optimizer_app.persistence import validation as queries
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, JobStatus, OptimizationJob
from tests.integration.api.conftest import ApiUser, assert_error, stored_job
from tests.integration.api.test_optimizations import job_body, submit

HOLDOUT = {"kind": "holdout", "fraction": 0.3}


def validate_now(job_id: uuid.UUID, settings: dict[str, Any]) -> None:
    """Give a stored job validation settings and compute its results as the orchestrator
    process does once a job ended."""
    with session_scope() as session:
        job = session.get(OptimizationJob, job_id)
        assert job is not None
        job.validation, job.validation_state = settings, queries.PENDING
        session.add(job)
    with session_scope(readonly=True) as session:
        pending = [p for p in queries.pending_validations(session=session, limit=1000)
                   if p.id == job_id]
    result = compute_validation(pending[0])
    assert result is not None
    with session_scope() as session:
        assert queries.store_validation(session=session, job_id=job_id, state=queries.DONE,
                                        result=result)


def test_a_holdout_job_is_pending_until_it_ends(client: TestClient, alice: ApiUser,
                                                bundled: list[Dataset]) -> None:
    job = submit(client, alice, job_body(bundled[0].id, validation=HOLDOUT))
    assert job["validation"] == HOLDOUT and job["validationState"] == "pending"
    got = client.get(f"/api/v1/optimizations/{job['id']}/validation", headers=alice.headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["status"] == "pending" and body["kind"] == "holdout"
    assert body["jobStatus"] == "queued" and body["settings"] == HOLDOUT
    listed = client.get("/api/v1/optimizations", headers=alice.headers).json()["data"]
    assert listed[0]["validationState"] == "pending"


def test_a_start_date_and_a_walkforward_are_accepted(client: TestClient, alice: ApiUser,
                                                     bundled: list[Dataset]) -> None:
    start = submit(client, alice, job_body(bundled[0].id, validation={
        "kind": "holdout", "start": "2012-01-01"}))
    assert start["validation"] == {"kind": "holdout", "start": "2012-01-01"}
    walk = submit(client, alice, job_body(bundled[0].id, validation={
        "kind": "walkforward", "folds": 5, "trainBars": 750, "testBars": 250}))
    assert walk["validation"] == {"kind": "walkforward", "folds": 5, "trainBars": 750,
                                  "testBars": 250, "anchored": False}


@pytest.mark.parametrize(("validation", "words"), [
    ({"kind": "holdout", "fraction": 0.95}, "less than or equal to 0.9"),
    ({"kind": "holdout", "fraction": 0}, "greater than 0"),
    ({"kind": "holdout"}, "either fraction"),
    ({"kind": "holdout", "start": "2030-01-01"}, "out of sample"),
    ({"kind": "holdout", "start": "2004-09-01"}, "in sample"),
    ({"kind": "holdout", "start": "yesterday"}, "date"),
    ({"kind": "walkforward", "folds": 5, "trainBars": 750, "testBars": 400}, "need 2,750 bars"),
    ({"kind": "walkforward", "folds": 5, "trainBars": 10, "testBars": 250}, "50"),
    ({"kind": "crystal-ball"}, "holdout"),
    ("holdout", "dictionary"),
])
def test_bad_validation_is_a_clear_422(client: TestClient, alice: ApiUser,
                                       bundled: list[Dataset], validation: Any,
                                       words: str) -> None:
    response = client.post("/api/v1/optimizations", headers=alice.headers,
                           json=job_body(bundled[0].id, validation=validation))
    error = assert_error(response, 422)
    assert all(d["field"].startswith("validation") for d in error["details"]), error
    assert words in error["message"], error["message"]


def test_validation_is_404_without_it_and_for_another_owner(
        client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]) -> None:
    plain = submit(client, alice, job_body(bundled[0].id))
    assert plain["validation"] is None and plain["validationState"] is None
    assert_error(client.get(f"/api/v1/optimizations/{plain['id']}/validation",
                            headers=alice.headers), 404, "not_found")
    held = submit(client, alice, job_body(bundled[0].id, validation=HOLDOUT))
    for path in ("validation", "stability"):
        assert_error(client.get(f"/api/v1/optimizations/{held['id']}/{path}",
                                headers=bob.headers), 404, "not_found")
    assert_error(client.get(f"/api/v1/optimizations/{uuid.uuid4()}/validation",
                            headers=alice.headers), 404)


def test_stored_results_are_served_and_exported(client: TestClient, alice: ApiUser,
                                                bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], status=JobStatus.SUCCEEDED)
    validate_now(job_id, HOLDOUT)
    body = client.get(f"/api/v1/optimizations/{job_id}/validation",
                      headers=alice.headers).json()
    assert body["status"] == "done" and body["metric"] == "sharpe"
    assert body["inSample"]["bars"] + body["outOfSample"]["bars"] == bundled[0].rows
    assert [r["rank"] for r in body["rows"]] == [1, 2, 3]
    assert set(body["rows"][0]) >= {"index", "params", "inSample", "outOfSample",
                                    "inSampleScore", "outOfSampleScore"}
    response = client.get(f"/api/v1/optimizations/{job_id}/export", headers=alice.headers)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["validation"]["settings"] == HOLDOUT
    assert manifest["validation"]["split"]["outOfSample"] == body["outOfSample"]
    exported = json.loads(archive.read("validation.json"))
    assert exported["rows"] == body["rows"] and exported["status"] == "done"


def test_export_without_validation_has_no_validation_json(
        client: TestClient, alice: ApiUser, bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], status=JobStatus.SUCCEEDED)
    response = client.get(f"/api/v1/optimizations/{job_id}/export", headers=alice.headers)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "validation.json" not in archive.namelist()
    assert json.loads(archive.read("manifest.json"))["validation"] is None


def test_stability_gives_each_row_its_neighbours(client: TestClient, alice: ApiUser,
                                                 bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], status=JobStatus.SUCCEEDED, tasks=6, top_n=3)
    body = client.get(f"/api/v1/optimizations/{job_id}/stability",
                      headers=alice.headers).json()
    assert body["rankBy"] == "score" and body["count"] == 3
    for row in body["data"]:
        # fast 5..10 by 1, slow 60: a middle row has two neighbours, an edge row one
        assert row["neighbours"] in (1, 2)
        assert row["neighbourWorst"] <= row["neighbourMean"]
    ranked = stored_job(alice, bundled[0], status=JobStatus.SUCCEEDED, tasks=6, top_n=3,
                        policy_extra={"rankBy": "neighbourhoodMean"})
    reranked = client.get(f"/api/v1/optimizations/{ranked}/stability",
                          headers=alice.headers).json()
    means = [r["neighbourMean"] for r in reranked["data"]]
    assert reranked["rankBy"] == "neighbourhoodMean" and means == sorted(means, reverse=True)


def test_rank_by_is_a_policy_option(client: TestClient, alice: ApiUser,
                                    bundled: list[Dataset]) -> None:
    policy = {"mode": "max", "metric": "sharpe", "topN": 5, "rankBy": "neighbourhoodMean"}
    job = submit(client, alice, job_body(bundled[0].id, earlyStopPolicy=policy))
    assert job["earlyStopPolicy"]["rankBy"] == "neighbourhoodMean"
    bad = client.post("/api/v1/optimizations", headers=alice.headers, json=job_body(
        bundled[0].id, earlyStopPolicy={**policy, "rankBy": "luck"}))
    assert_error(bad, 422)

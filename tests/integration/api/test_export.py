"""GET /optimizations/{id}/export: the streamed zip for running and terminal jobs, its
consistency (topn.csv = topn.json), no backtest, and the failure branch."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

import pytest
from fastapi.testclient import TestClient
from loguru import logger

from optimizer_app.core.metrics import REGISTRY
from optimizer_app.persistence.models import Dataset, JobStatus
from tests.integration.api.conftest import ApiUser, assert_error, stored_job
from tests.support.factories import delete_artifact


@pytest.fixture
def no_backtests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to run the engine fails the test: exporting never recomputes."""
    import optimizer_app.domain.engine as engine

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("export ran a backtest")

    for name in ("run_single", "evaluate_grid"):
        monkeypatch.setattr(engine, name, forbidden)
    try:
        import optimizer_app.domain.worker as worker

        monkeypatch.setattr(worker, "run_chunk", forbidden)
    except ImportError:  # the worker module is optional for this check
        pass


def fetch_zip(client: TestClient, user: ApiUser, job_id: uuid.UUID) -> zipfile.ZipFile:
    response = client.get(f"/api/v1/optimizations/{job_id}/export", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="optimization-{job_id}-top' in disposition
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


def assert_csv_matches_json(archive: zipfile.ZipFile) -> list[dict]:
    top = json.loads(archive.read("topn.json"))
    rows = list(csv.DictReader(io.StringIO(archive.read("topn.csv").decode())))
    assert len(rows) == len(top)
    for row, entry in zip(rows, top, strict=True):
        assert int(row["rank"]) == entry["rank"]
        assert row["taskId"] == entry["taskId"]
        assert float(row["score"]) == entry["score"]
        for name, value in {**entry["params"], **entry["metrics"]}.items():
            assert row[name] == ("" if value is None else str(value)), name
    return top


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED,
                                    JobStatus.EARLY_STOPPED, JobStatus.CANCELED,
                                    JobStatus.RUNNING])
def test_export_holds_every_member(client: TestClient, alice: ApiUser, bundled: list[Dataset],
                                   no_backtests: None, status: JobStatus) -> None:
    live = status == JobStatus.RUNNING
    job_id = stored_job(alice, bundled[0], status=status, tasks=6, top_n=4,
                        total=50 if live else None)
    archive = fetch_zip(client, alice, job_id)
    top = assert_csv_matches_json(archive)
    assert [e["rank"] for e in top] == [1, 2, 3, 4]
    assert [e["score"] for e in top] == sorted((e["score"] for e in top), reverse=True)
    assert any(e["score"] < 0 for e in top) or any(
        v < 0 for e in top for v in e["metrics"].values() if isinstance(v, float))
    names = set(archive.namelist())
    for entry in top:
        for artifact in ("equity.csv", "trades.csv"):
            assert f"artifacts/{entry['taskId']}/{artifact}" in names
    assert names == {"manifest.json", "topn.json", "topn.csv"} | {
        f"artifacts/{e['taskId']}/{a}" for e in top for a in ("equity.csv", "trades.csv")}
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["job"]["id"] == str(job_id)
    assert manifest["job"]["status"] == status.value
    assert manifest["dataset"]["checksum"] == bundled[0].checksum
    assert manifest["appVersion"] and manifest["generatedAt"]
    assert manifest["paramSpace"]["slow"] == {"values": [60]}
    assert manifest["earlyStopPolicy"]["mode"] == "max"
    if live:
        assert manifest["job"]["summary"]["total"] == 50


def test_export_of_a_job_without_results_is_an_empty_board(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = stored_job(alice, bundled[0], status=JobStatus.QUEUED, tasks=0)
    archive = fetch_zip(client, alice, job_id)
    assert json.loads(archive.read("topn.json")) == []
    assert archive.read("topn.csv").decode().splitlines() == ["rank,taskId,score"]


def test_missing_artifact_is_409_not_a_broken_zip(client: TestClient, alice: ApiUser,
                                                   bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=4, top_n=2)
    top = client.get(f"/api/v1/optimizations/{job_id}/status", headers=alice.headers).json()
    lost = uuid.UUID(top["summary"]["topN"][1]["taskId"])
    delete_artifact(job_id, lost, "equity.csv")
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m), level="ERROR", serialize=True)
    before = REGISTRY.get_sample_value("export_failures_total",
                                       {"cause": "artifact_missing"}) or 0.0
    try:
        response = client.get(f"/api/v1/optimizations/{job_id}/export", headers=alice.headers)
    finally:
        logger.remove(sink)
    error = assert_error(response, 409, "artifact_missing")
    assert error["details"][0]["taskId"] == str(lost)
    assert response.headers["content-type"].startswith("application/json")
    after = REGISTRY.get_sample_value("export_failures_total", {"cause": "artifact_missing"})
    assert after == before + 1
    records = [json.loads(line)["record"] for line in lines]
    failure = next(r for r in records if r["message"] == "export failed")
    assert failure["extra"]["job_id"] == str(job_id)
    assert failure["extra"]["cause"] == "artifact_missing"


def test_another_owner_cannot_export(client: TestClient, alice: ApiUser, bob: ApiUser,
                                     bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0])
    assert_error(client.get(f"/api/v1/optimizations/{job_id}/export", headers=bob.headers), 404)


def test_csv_escapes_formula_text_but_keeps_negative_numbers(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=3, top_n=3,
                        extra_params={"note": "=HYPERLINK(\"http://evil\")", "tag": "@SUM(A1)"})
    archive = fetch_zip(client, alice, job_id)
    top = json.loads(archive.read("topn.json"))
    assert top[0]["params"]["note"] == "=HYPERLINK(\"http://evil\")"
    rows = list(csv.DictReader(io.StringIO(archive.read("topn.csv").decode())))
    assert rows[0]["note"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["tag"] == "'@SUM(A1)"
    negative = [v for v in top[0]["metrics"].values() if isinstance(v, float) and v < 0]
    assert negative, "the factory writes negative metrics"
    cells = set(rows[0].values())
    assert all(repr(v) in cells for v in negative)
    assert not any(cell.startswith("'-") for cell in cells)

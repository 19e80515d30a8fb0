"""Export bundle: cells, zip stream, validation before streaming, metrics on failure."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

import pytest
from sqlmodel import Session

from optimizer_app import __version__
from optimizer_app.core.errors import ConflictError, InternalError, NotFoundError
from optimizer_app.core.metrics import EXPORT_FAILURES, EXPORT_SECONDS, REGISTRY
from optimizer_app.persistence.models import Dataset, JobStatus, User
from optimizer_app.services import export
from optimizer_app.services.export import ExportRow, csv_cell, json_safe, topn_csv
from tests.support.factories import JobSpec, delete_artifact, make_job, make_user


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (-1.25, "-1.25"),
        (-3, "-3"),
        (0.1, "0.1"),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cell_escapes_formula_text_but_not_numbers(value: object, expected: str) -> None:
    assert csv_cell(value) == expected


def test_json_safe_turns_non_finite_into_null() -> None:
    assert json_safe({"a": float("nan"), "b": [float("inf"), 1.5]}) == {"a": None, "b": [None, 1.5]}


def test_topn_csv_has_one_column_per_param_and_metric() -> None:
    row = ExportRow(1, uuid.uuid4(), -0.5, {"fast": 5, "label": "=cmd"}, {"sharpe": -0.5})
    text = topn_csv([row], ["fast", "label"], ["sharpe"]).decode()
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["rank", "taskId", "score", "fast", "label", "sharpe"]
    assert parsed[1] == ["1", str(row.task_id), "-0.5", "5", "'=cmd", "-0.5"]


def _unzip(bundle: export.ExportBundle) -> zipfile.ZipFile:
    data = b"".join(bundle.stream())
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


def test_export_of_terminal_job_holds_every_member(db: Session, user: User, dataset: Dataset
                                                    ) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id,
                   spec=JobSpec(status=JobStatus.EARLY_STOPPED, tasks=6, top_n=3))
    before = _sample("export_seconds_count")
    bundle = export.build_export(session=db, owner_id=user.id, job_id=job.id)
    assert bundle.filename == f"optimization-{job.id}-top3.zip"
    archive = _unzip(bundle)
    top = json.loads(archive.read("topn.json"))
    ids = [row["taskId"] for row in top]
    assert [row["rank"] for row in top] == [1, 2, 3]
    assert [row["score"] for row in top] == sorted((r["score"] for r in top), reverse=True)
    expected = {"manifest.json", "topn.json", "topn.csv"} | {
        f"artifacts/{i}/{name}" for i in ids for name in ("equity.csv", "trades.csv")
    }
    assert set(archive.namelist()) == expected
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["appVersion"] == __version__
    assert manifest["job"]["id"] == str(job.id)
    assert manifest["job"]["status"] == "early-stopped"
    assert manifest["dataset"]["checksum"] == dataset.checksum
    assert manifest["paramSpace"] == job.param_space
    assert manifest["earlyStopPolicy"]["topN"] == 3
    assert _sample("export_seconds_count") == before + 1


def test_min_mode_ranks_lowest_score_first(db: Session, user: User, dataset: Dataset) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id,
                   spec=JobSpec(mode="min", metric="maxDrawdown", tasks=5, top_n=2))
    archive = _unzip(export.build_export(session=db, owner_id=user.id, job_id=job.id))
    scores = [row["score"] for row in json.loads(archive.read("topn.json"))]
    assert scores == sorted(scores)


def test_another_owner_gets_not_found(db: Session, user: User, dataset: Dataset) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id)
    with pytest.raises(NotFoundError):
        export.build_export(session=db, owner_id=make_user(db).id, job_id=job.id)


def test_missing_artifact_fails_before_streaming(db: Session, user: User, dataset: Dataset
                                                 ) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id, spec=JobSpec(top_n=2))
    top_task = job.summary["topN"][0]["taskId"]
    delete_artifact(job.id, uuid.UUID(top_task), "trades.csv")
    before = _sample("export_failures_total", cause="artifact_missing")
    with pytest.raises(ConflictError) as caught:
        export.build_export(session=db, owner_id=user.id, job_id=job.id)
    assert caught.value.code == "artifact_missing"
    assert caught.value.details[0]["taskId"] == top_task
    assert _sample("export_failures_total", cause="artifact_missing") == before + 1


def test_unreadable_store_is_an_internal_error(db: Session, user: User, dataset: Dataset,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id)

    class BrokenStore:
        def read(self, uri: str) -> bytes:
            raise PermissionError(uri)

    monkeypatch.setattr(export, "get_artifact_store", lambda: BrokenStore())
    before = _sample("export_failures_total", cause="unreadable")
    with pytest.raises(InternalError):
        export.build_export(session=db, owner_id=user.id, job_id=job.id)
    assert _sample("export_failures_total", cause="unreadable") == before + 1
    assert EXPORT_FAILURES is not None and EXPORT_SECONDS is not None

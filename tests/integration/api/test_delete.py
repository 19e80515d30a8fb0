"""DELETE /optimizations/{id}: rows, results and artifacts go; a live job is canceled first;
re-runs keep their source id with a null name; another user's job is a 404."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from optimizer_app.core.config import settings
from optimizer_app.orchestration import deletion
from optimizer_app.orchestration.artifacts import get_artifact_store
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import (
    Dataset,
    JobStatus,
    OptimizationJob,
    OptimizationTask,
    ResultSummary,
)
from tests.integration.api.conftest import ApiUser, assert_error, stored_job


def _counts(job_id: uuid.UUID) -> tuple[int, int, int]:
    with session_scope(readonly=True) as session:
        jobs = session.exec(select(func.count()).select_from(OptimizationJob)
                            .where(OptimizationJob.id == job_id)).one()
        tasks = session.exec(select(func.count()).select_from(OptimizationTask)
                             .where(OptimizationTask.job_id == job_id)).one()
        results = session.exec(
            select(func.count()).select_from(ResultSummary)
            .join(OptimizationTask, col(OptimizationTask.id) == col(ResultSummary.task_id))
            .where(OptimizationTask.job_id == job_id)
        ).one()
    return int(jobs), int(tasks), int(results)


def _artifact_dir(job_id: uuid.UUID) -> object:
    return get_artifact_store().root / str(job_id)  # type: ignore[attr-defined]


def test_delete_removes_the_job_its_tasks_results_and_artifacts(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=40, top_n=5)
    jobs, tasks, results = _counts(job_id)
    assert (jobs, tasks) == (1, 40) and results > 0
    assert _artifact_dir(job_id).is_dir()  # type: ignore[attr-defined]

    answer = client.delete(f"/api/v1/optimizations/{job_id}", headers=alice.headers)
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    assert _counts(job_id) == (0, 0, 0)
    assert not _artifact_dir(job_id).exists()  # type: ignore[attr-defined]
    assert_error(client.get(f"/api/v1/optimizations/{job_id}", headers=alice.headers), 404)
    assert_error(client.delete(f"/api/v1/optimizations/{job_id}", headers=alice.headers), 404)
    listed = client.get("/api/v1/optimizations?limit=100", headers=alice.headers).json()
    assert str(job_id) not in {job["id"] for job in listed["data"]}


def test_a_large_job_is_deleted_in_short_transactions(
    client: TestClient, alice: ApiUser, bundled: list[Dataset], monkeypatch: object
) -> None:
    monkeypatch.setattr(deletion, "DELETE_SLICE_ROWS", 7)  # type: ignore[attr-defined]
    job_id = stored_job(alice, bundled[0], tasks=50, top_n=5)
    assert client.delete(f"/api/v1/optimizations/{job_id}",
                         headers=alice.headers).status_code == 204
    assert _counts(job_id) == (0, 0, 0)


def test_a_live_job_is_canceled_then_deleted(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = stored_job(alice, bundled[0], status=JobStatus.RUNNING, tasks=10, total=100)
    assert client.delete(f"/api/v1/optimizations/{job_id}",
                         headers=alice.headers).status_code == 204
    assert _counts(job_id) == (0, 0, 0)


def test_reruns_of_a_deleted_job_keep_its_id_without_a_name(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    source = stored_job(alice, bundled[0], name="the original")
    rerun = stored_job(alice, bundled[0], source_job_id=source)
    before = client.get(f"/api/v1/optimizations/{rerun}", headers=alice.headers).json()
    assert before["sourceJobName"] == "the original"
    assert client.delete(f"/api/v1/optimizations/{source}",
                         headers=alice.headers).status_code == 204
    after = client.get(f"/api/v1/optimizations/{rerun}", headers=alice.headers).json()
    assert after["sourceJobId"] == str(source)
    assert after["sourceJobName"] is None


def test_another_users_job_is_a_404_and_stays(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = stored_job(alice, bundled[0])
    assert_error(client.delete(f"/api/v1/optimizations/{job_id}", headers=bob.headers), 404)
    assert_error(client.delete("/api/v1/optimizations/not-a-uuid", headers=bob.headers), 404)
    assert_error(client.delete(f"/api/v1/optimizations/{job_id}"), 401)
    assert _counts(job_id)[:2] == (1, 6)


def _pages() -> tuple[int, int]:
    from sqlalchemy import text

    with session_scope(readonly=True) as session:
        count = session.execute(text("PRAGMA page_count")).scalar_one()
        free = session.execute(text("PRAGMA freelist_count")).scalar_one()
    return int(count), int(free)


def test_the_disk_space_comes_back(client: TestClient, alice: ApiUser,
                                   bundled: list[Dataset]) -> None:
    job_id = stored_job(alice, bundled[0], tasks=3_000, top_n=5)
    before, _ = _pages()
    assert client.delete(f"/api/v1/optimizations/{job_id}",
                         headers=alice.headers).status_code == 204
    after, free = _pages()
    assert free == 0
    assert after < before - 50, (before, after)  # 3,000 task rows span well over 50 pages


def test_retention_removes_old_finished_jobs_only(
    alice: ApiUser, bundled: list[Dataset]
) -> None:
    old = stored_job(alice, bundled[0], age_seconds=10 * 86_400)
    old_running = stored_job(alice, bundled[0], age_seconds=10 * 86_400,
                             status=JobStatus.RUNNING, total=100)
    recent = stored_job(alice, bundled[0], age_seconds=86_400)
    assert deletion.apply_retention(None) == 0  # off by default
    assert _counts(old)[0] == 1
    while deletion.apply_retention(7):
        pass
    assert _counts(old) == (0, 0, 0)
    assert not _artifact_dir(old).exists()  # type: ignore[attr-defined]
    assert _counts(old_running)[0] == 1 and _counts(recent)[0] == 1


def test_folders_a_late_chunk_makes_for_a_deleted_job_are_swept_after_an_hour(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    """A worker finishing a chunk after its job was deleted can make the job's folders again:
    they go once untouched for an hour. Only jobs deleted here are swept: a folder of a job
    this app never knew (another app's, on a shared disk) stays, however old."""
    deleted = stored_job(alice, bundled[0], tasks=10, top_n=3)
    kept = stored_job(alice, bundled[0], tasks=10, top_n=3)
    assert client.delete(f"/api/v1/optimizations/{deleted}",
                         headers=alice.headers).status_code == 204
    hour_ago = time.time() - 3_700

    def folder(path: Path, *, old: bool = True) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        (path / "equity.csv").write_bytes(b"x")
        if old:
            os.utime(path, (hour_ago, hour_ago))
        return path

    late = [folder(_artifact_dir(deleted)), folder(results_store.job_dir(deleted))]  # type: ignore[arg-type]
    stranger = uuid.uuid4()
    unknown = [folder(settings.resolved_artifact_dir / str(stranger)),
               folder(results_store.job_dir(stranger))]
    own = [folder(_artifact_dir(kept)), folder(results_store.job_dir(kept))]  # type: ignore[arg-type]
    os.utime(late[0], None)  # just written: not yet
    assert deletion.sweep_orphans() == 1 and not late[1].exists() and late[0].is_dir()
    os.utime(late[0], (hour_ago, hour_ago))
    assert deletion.sweep_orphans() == 1 and not late[0].exists()
    assert all(path.is_dir() for path in [*unknown, *own])
    assert deletion.sweep_orphans() == 0
    tombstone = results_store.root() / deletion.TOMBSTONES / str(deleted)
    assert tombstone.is_file()
    day_ago = time.time() - deletion.TOMBSTONE_SECONDS - 60
    os.utime(tombstone, (day_ago, day_ago))
    deletion.sweep_orphans()
    assert not tombstone.exists()  # kept a day, then dropped

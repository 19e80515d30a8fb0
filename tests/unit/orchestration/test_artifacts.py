from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from optimizer_app.domain.artifact_files import write_task_files
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.orchestration.artifacts import (
    ArtifactMissingError,
    LocalArtifactStore,
    artifact_kind,
    get_artifact_store,
)


def test_put_then_read_round_trips_under_job_and_task(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    job, task = uuid.uuid4(), uuid.uuid4()
    uri = store.put(job, task, "equity.csv", b"date,equity\n")
    assert uri == f"artifacts://{job}/{task}/equity.csv"
    assert (tmp_path / str(job) / str(task) / "equity.csv").read_bytes() == b"date,equity\n"
    assert store.read(uri) == b"date,equity\n"
    assert store.put(job, task, "equity.csv", b"v2") == uri  # a retried write replaces
    assert store.read(uri) == b"v2"
    assert not list((tmp_path / str(job) / str(task)).glob(".*.tmp"))


def test_uris_survive_moving_the_folder(tmp_path: Path) -> None:
    job, task = uuid.uuid4(), uuid.uuid4()
    uri = LocalArtifactStore(tmp_path / "a").put(job, task, "trades.csv", b"x")
    (tmp_path / "a").rename(tmp_path / "b")
    assert LocalArtifactStore(tmp_path / "b").read(uri) == b"x"


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "file:///etc/passwd",
        "artifacts://not-a-uuid/also-not/x.csv",
        f"artifacts://{uuid.uuid4()}/{uuid.uuid4()}/..",
        f"artifacts://{uuid.uuid4()}/{uuid.uuid4()}/missing.csv",
    ],
)
def test_unknown_or_unsafe_uris_are_missing(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ArtifactMissingError):
        LocalArtifactStore(tmp_path).read(uri)


def test_names_must_be_plain_file_names(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    for name in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            store.put(uuid.uuid4(), uuid.uuid4(), name, b"")


def test_kinds_and_default_store() -> None:
    assert artifact_kind("equity.csv") == "equity_curve"
    assert artifact_kind("trades.csv") == "trades"
    assert isinstance(get_artifact_store(), LocalArtifactStore)


def test_files_a_worker_writes_into_the_store_are_linked_and_discarded_by_the_store(
        tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    job = uuid.uuid4()
    assert store.worker_folder(job) == tmp_path.resolve() / str(job)
    names = write_task_files(store.worker_folder(job), job, 7, {"trades.csv": b"t", "equity.csv": b"e"})
    assert names == ["equity.csv", "trades.csv"]
    task = task_id_for(job, 7)
    assert [store.read(store.uri_for(job, task, name)) for name in names] == [b"e", b"t"]
    assert store.uri_for(job, task, "equity.csv") == store.put(job, task, "equity.csv", b"e")
    other = task_id_for(job, 8)
    store.put(job, other, "equity.csv", b"kept")
    store.discard(job, task)
    with pytest.raises(ArtifactMissingError):
        store.read(store.uri_for(job, task, "equity.csv"))
    assert store.read(store.uri_for(job, other, "equity.csv")) == b"kept"
    store.discard(job, task)  # nothing left to remove: no error
    with pytest.raises(ValueError):
        write_task_files(store.worker_folder(job), job, 9, {"../x": b""})

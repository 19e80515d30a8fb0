from __future__ import annotations

import uuid
from pathlib import Path

import pytest

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

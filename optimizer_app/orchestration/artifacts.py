"""Artifact store: the files written while tasks run (equity curve, trade list).

The default store is a local folder (``settings.resolved_artifact_dir``) laid out as
``<job_id>/<task_id>/<name>``; its URIs are ``artifacts://<job_id>/<task_id>/<name>``,
relative to the store's root, so the folder can move (or be mounted elsewhere by another
process) without rewriting the database. Another store (e.g. object storage) implements the
same methods."""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from optimizer_app.core.config import settings
from optimizer_app.domain.artifact_files import check_name, write_file

_URI = re.compile(r"^artifacts://([0-9a-f-]{36})/([0-9a-f-]{36})/([^/]+)$")
SCHEME = "artifacts"

ARTIFACT_KINDS = {"equity.csv": "equity_curve", "trades.csv": "trades"}


class ArtifactMissingError(Exception):
    """The URI names no stored artifact (deleted, or never written)."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"artifact {uri} is missing")
        self.uri = uri


class ArtifactStore(Protocol):
    def put(self, job_id: uuid.UUID, task_id: uuid.UUID, name: str, data: bytes) -> str:
        """Store ``data`` (replacing any earlier copy) and return its URI."""
        ...

    def worker_folder(self, job_id: uuid.UUID) -> Path | None:
        """The job's folder when workers may write its files into the store themselves
        (``domain.artifact_files`` layout, storage they share); None: they send them back."""
        ...

    def uri_for(self, job_id: uuid.UUID, task_id: uuid.UUID, name: str) -> str:
        """The URI of a file a worker wrote into ``worker_folder(job_id)``."""
        ...

    def discard(self, job_id: uuid.UUID, task_id: uuid.UUID) -> None:
        """Remove one task's files (a worker wrote them for a row that did not enter the
        Top-N); nothing when there are none."""
        ...

    def read(self, uri: str) -> bytes:
        """The bytes stored at ``uri``; :class:`ArtifactMissingError` when there are none."""
        ...

    def job_bytes(self, job_id: uuid.UUID) -> int:
        """Bytes the job's artifacts take."""
        ...

    def delete_job(self, job_id: uuid.UUID) -> None:
        """Remove every artifact of a job."""
        ...


def artifact_kind(name: str) -> str:
    return ARTIFACT_KINDS.get(name, "file")


class LocalArtifactStore:
    """Files under one root folder. Writes are atomic (temp file + rename), so a reader never
    sees half a file and a retried write simply replaces the earlier one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._last_folder: Path | None = None  # a task's files are written one after another

    def _task_folder(self, job_id: uuid.UUID, task_id: uuid.UUID) -> Path:
        return self.worker_folder(job_id) / str(uuid.UUID(str(task_id)))

    def path_for(self, job_id: uuid.UUID, task_id: uuid.UUID, name: str) -> Path:
        return self._task_folder(job_id, task_id) / check_name(name)

    def put(self, job_id: uuid.UUID, task_id: uuid.UUID, name: str, data: bytes) -> str:
        path = self.path_for(job_id, task_id, name)
        if path.parent != self._last_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_file(path, data)
        except FileNotFoundError:  # the folder went (the job's artifacts were deleted)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_file(path, data)
        self._last_folder = path.parent
        return self.uri_for(job_id, task_id, name)

    def worker_folder(self, job_id: uuid.UUID) -> Path:
        return self.root / str(uuid.UUID(str(job_id)))

    def uri_for(self, job_id: uuid.UUID, task_id: uuid.UUID, name: str) -> str:
        path = self.path_for(job_id, task_id, name)
        return f"{SCHEME}://{path.parent.parent.name}/{path.parent.name}/{name}"

    def discard(self, job_id: uuid.UUID, task_id: uuid.UUID) -> None:
        shutil.rmtree(self._task_folder(job_id, task_id), ignore_errors=True)

    def _path_of(self, uri: str) -> Path:
        match = _URI.match(uri or "")
        if match is None:
            raise ArtifactMissingError(uri)
        try:
            return self.path_for(uuid.UUID(match[1]), uuid.UUID(match[2]), match[3])
        except ValueError as exc:
            raise ArtifactMissingError(uri) from exc

    def read(self, uri: str) -> bytes:
        path = self._path_of(uri)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ArtifactMissingError(uri) from exc

    def job_bytes(self, job_id: uuid.UUID) -> int:
        """Bytes the job's artifacts take (0 when it has none)."""
        folder = self.root / str(uuid.UUID(str(job_id)))
        total = 0
        for path in folder.rglob("*"):
            with contextlib.suppress(OSError):
                if path.is_file():
                    total += path.stat().st_size
        return total

    def delete_job(self, job_id: uuid.UUID) -> None:
        """Remove every artifact of a job (nothing when it has none)."""
        shutil.rmtree(self.root / str(uuid.UUID(str(job_id))), ignore_errors=True)


@lru_cache(maxsize=4)
def _store_for(root: Path) -> LocalArtifactStore:
    return LocalArtifactStore(root)


def get_artifact_store() -> ArtifactStore:
    """The configured artifact store (a local folder under the data directory by default)."""
    return _store_for(settings.resolved_artifact_dir)

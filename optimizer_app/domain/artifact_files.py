"""A combination's artifact files (equity curve, trade list) in the local artifact store's
layout, ``<job folder>/<task id>/<name>``. The orchestrator's store writes them this way, and
so does a worker that shares the store's disk: it then sends back the files' names, not their
bytes (~100 KB an equity curve of ten years' daily bars, ten of them in a chunk's Top-N)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path

from optimizer_app.domain.task_ids import task_id_for

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_name(name: str) -> str:
    if not SAFE_NAME.match(name):
        raise ValueError(f"artifact name {name!r} is not a plain file name")
    return name


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: to a temporary name in the same folder, then
    renamed, so a reader never sees half a file and writing again replaces the earlier copy.
    The folder must exist."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_task_files(job_folder: Path, job_id: uuid.UUID, index: int,
                     files: Mapping[str, bytes]) -> list[str]:
    """Write the files of combination ``index`` of job ``job_id`` into ``job_folder`` (each
    atomically, creating the folders). Returns their names, sorted."""
    names = sorted(check_name(name) for name in files)
    folder = job_folder / str(task_id_for(job_id, index))
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_file(folder / name, files[name])
    return names

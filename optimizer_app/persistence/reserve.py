"""A few MiB of the data disk held back, so that when the disk fills up the app can still
write what it must: the failed job's status and the reason. The orchestrator makes the
reserve file when it starts (and again once there is room), and gives it up on a full disk
just before it records the failure."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from optimizer_app.core.config import settings

RESERVE_BYTES = 4 * 1024 * 1024
RESERVE_NAME = ".disk-reserve"


def reserve_path() -> Path:
    return settings.data_dir / RESERVE_NAME


def hold() -> bool:
    """Make the reserve if it is missing and the disk has room to spare (four times the
    reserve); True when it is in place."""
    path = reserve_path()
    try:
        if path.exists() and path.stat().st_size >= RESERVE_BYTES:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        disk = os.statvfs(path.parent)
        if disk.f_bavail * disk.f_frsize < 4 * RESERVE_BYTES:
            return False  # not while the disk is (nearly) full: never the last free space
        tmp = path.with_name(f"{RESERVE_NAME}.tmp")
        with tmp.open("wb") as handle:
            handle.write(b"\0" * RESERVE_BYTES)  # real blocks, not a sparse file
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            path.with_name(f"{RESERVE_NAME}.tmp").unlink()
        return False


def release() -> bool:
    """Give the reserve back to the disk; True when there was one."""
    try:
        reserve_path().unlink()
        return True
    except OSError:
        return False

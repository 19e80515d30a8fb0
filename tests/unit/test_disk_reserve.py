"""The disk reserve: made when there is room to spare, given back on a full disk."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from optimizer_app.core.config import settings
from optimizer_app.persistence import reserve


def test_the_reserve_is_held_released_and_never_takes_the_last_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    assert reserve.hold() is True
    assert reserve.reserve_path().stat().st_size == reserve.RESERVE_BYTES
    assert reserve.hold() is True  # already there
    assert reserve.release() is True and not reserve.reserve_path().exists()
    assert reserve.release() is False

    nearly_full = SimpleNamespace(f_bavail=1, f_frsize=reserve.RESERVE_BYTES * 3)
    monkeypatch.setattr(os, "statvfs", lambda _path: nearly_full)
    assert reserve.hold() is False and not reserve.reserve_path().exists()

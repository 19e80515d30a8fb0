"""A database made before jobs could be deleted is converted to incremental vacuum once, and
freed pages then go back to the disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from optimizer_app.core.config import settings
from optimizer_app.persistence.db import ensure_incremental_vacuum, release_free_pages


def test_an_old_database_is_converted_once_and_gives_space_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # as older versions made it: no auto_vacuum
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x TEXT)")
        connection.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 20_000)
    monkeypatch.setitem(settings.__dict__, "resolved_database_url", f"sqlite:///{path}")

    assert ensure_incremental_vacuum() is True
    assert ensure_incremental_vacuum() is False  # already converted
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 20_000
        before = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute("DELETE FROM t")
    assert release_free_pages() > 0
    with sqlite3.connect(path) as connection:
        after = connection.execute("PRAGMA page_count").fetchone()[0]
        assert connection.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert after < before / 10, (before, after)

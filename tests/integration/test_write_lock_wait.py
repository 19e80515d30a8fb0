"""A write transaction that finds SQLite's write lock taken (the other process of the app is
writing) waits in short steps rather than SQLite's growing sleeps, and still gives up after
the busy timeout with "database is locked"; the connection's busy timeout is as before."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from optimizer_app.persistence import db
from optimizer_app.persistence.db import get_engine, session_scope


def _database_path() -> str:
    path = get_engine().url.database
    assert path, "the test database is a file"
    return path


def _hold_write_lock(seconds: float, taken: threading.Event) -> threading.Thread:
    """Another connection (as another process would) holds the write lock for ``seconds``."""

    def hold() -> None:
        other = sqlite3.connect(_database_path(), isolation_level=None, timeout=30)
        try:
            other.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            other.execute("COMMIT")
        finally:
            other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def _busy_timeout() -> int:
    with session_scope() as session:
        return int(session.execute(text("PRAGMA busy_timeout")).scalar_one())


def test_a_writer_waits_for_the_lock_and_gets_it(migrated_db: str) -> None:
    taken = threading.Event()
    holder = _hold_write_lock(0.3, taken)
    assert taken.wait(10)
    with session_scope() as session:
        started = time.monotonic()
        session.execute(text("SELECT 1"))  # begins (IMMEDIATE): waits for the holder's COMMIT
        waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.2, "the write transaction began while another held the lock"
    assert _busy_timeout() == db.SQLITE_BUSY_TIMEOUT_MS


def test_a_writer_still_gives_up_after_the_busy_timeout(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    taken = threading.Event()
    holder = _hold_write_lock(1.5, taken)
    assert taken.wait(10)
    try:
        with (pytest.raises(sa_exc.OperationalError, match="database is locked"),
              session_scope() as session):
            session.execute(text("SELECT 1"))
    finally:
        holder.join()
    assert _busy_timeout() == 200  # restored to the (patched) timeout after the failure

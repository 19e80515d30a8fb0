"""Database engine and sessions. SQLite runs in WAL mode with a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers never lose rows.

Checkpoints (copying the WAL back into the database file) are moved off the write path: a
commit runs one itself only once the WAL holds ``SQLITE_AUTOCHECKPOINT_PAGES``; in between,
the orchestrator's ``WalCheckpointer`` thread copies it back while the next chunk is written
(with the default 1,000-page threshold the orchestrator spent ~1/4 of a 100,000-combination
job inside checkpoints)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from optimizer_app.core.config import settings

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_AUTOCHECKPOINT_PAGES = 16_384  # 64 MiB of 4 KiB pages: a backstop, see WalCheckpointer


SQLITE_POOL_SIZE = 24
SQLITE_POOL_OVERFLOW = 40
# A connection with this execution option runs one statement without an explicit BEGIN.
_ONE_STATEMENT = "optimizer_one_statement"


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions are disabled).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Free pages go back to the disk when a job is deleted (``incremental_vacuum``). Set in
        # a new (empty) database only: on an existing one the pragma writes the header, and an
        # older database is converted once by ``ensure_incremental_vacuum``.
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_ONE_STATEMENT):
            return
        if begin == "BEGIN IMMEDIATE":
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql(begin)


# A writer that finds the write lock taken tries again after 0.1 ms, then doubling up to 1 ms,
# for as long as the busy timeout. SQLite's own wait sleeps 1, 2, 5, 10, 15, 20, 25 ms...
# between tries: with the web server and the orchestrator writing at once, a submit's BEGIN
# waited p90 0.7 / p99 27 ms (the orchestrator's p90 6.5 / p99 29 ms) for locks held a few ms.
_RETRY_FIRST_SECONDS = 0.0001
_RETRY_MAX_SECONDS = 0.001


def _begin_immediate(conn: Any) -> None:
    """``BEGIN IMMEDIATE``, retried at short intervals while another connection writes."""
    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        delay = _RETRY_FIRST_SECONDS
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY)
                if code & 0xFF != sqlite3.SQLITE_BUSY:  # (extended codes: SQLITE_BUSY_*)
                    raise
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_SECONDS)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # a last try: "database is locked", as before
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def build_engine(url: str, *, readonly: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Connections are kept for reuse up to SQLITE_POOL_SIZE: one opened past the pool is
        # closed again on return, and opening one (WAL and other pragmas) costs more than
        # the short read a status poll makes with it.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW)
        # Readers use a deferred BEGIN: in WAL mode they never block the writer.
        _configure_sqlite(engine, begin="BEGIN" if readonly else "BEGIN IMMEDIATE")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# The process's engines, by "read-only" (the same engine for both off SQLite). A cache keyed
# on the call's arguments kept get_engine(), get_engine(False) and get_engine(True) as three
# entries in two places: each call evicted another, and the orchestrator built a new engine —
# a new connection pool, empty statement cache — for almost every chunk it wrote.
_ENGINES: dict[bool, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(readonly: bool = False) -> Engine:
    key = bool(readonly) and settings.is_sqlite
    engine = _ENGINES.get(key)
    if engine is None:
        with _ENGINES_LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = build_engine(settings.resolved_database_url, readonly=key)
                _ENGINES[key] = engine
    return engine


def reset_engine() -> None:
    """Forget the engines (tests that switch databases)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()


@contextmanager
def session_scope(*, readonly: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error.

    ``readonly=True`` is for queries that write nothing (status polling, lists): on SQLite
    it never takes the write lock."""
    with Session(get_engine(readonly), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def read_first(statement: Any, params: dict[str, Any]) -> Any:
    """The first row of one read-only statement (None without one), on the read engine and
    without a session: on SQLite without ``BEGIN``/``COMMIT`` (one statement is its own
    snapshot), which with the session around it were about half the CPU of a status poll's
    read. For the reads made all the time; several reads that must agree use
    :func:`session_scope`."""
    with get_engine(readonly=True).connect() as connection:
        connection.execution_options(**{_ONE_STATEMENT: True})
        return connection.execute(statement, params).first()


def read_all(statement: Any, params: dict[str, Any]) -> list[Any]:
    """Every row of one read-only statement, as :func:`read_first` reads."""
    with get_engine(readonly=True).connect() as connection:
        connection.execution_options(**{_ONE_STATEMENT: True})
        return list(connection.execute(statement, params).all())


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


VACUUM_PAGES_PER_STEP = 4_096  # 16 MiB of 4 KiB pages: a short hold of the write lock


def _sqlite_path() -> str | None:
    if not settings.is_sqlite:
        return None
    path = make_url(settings.resolved_database_url).database
    return path if path and path != ":memory:" else None


def ensure_incremental_vacuum() -> bool:
    """Convert an SQLite database made before deletes existed to ``auto_vacuum=INCREMENTAL``
    (one ``VACUUM``, which rewrites the file: run it before the servers start). True when it
    converted."""
    path = _sqlite_path()
    if path is None or not Path(path).exists():
        return False
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        if int(connection.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2:
            return False
        connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        connection.execute("VACUUM")
        return True
    finally:
        connection.close()


def release_free_pages(max_steps: int = 10_000) -> int:
    """Give an SQLite database's free pages back to the disk, a few thousand pages per
    transaction so that writers never wait long. Returns the pages released (0 elsewhere)."""
    path = _sqlite_path()
    if path is None:
        return 0
    connection = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    released = 0
    try:
        for _ in range(max_steps):
            free = int(connection.execute("PRAGMA freelist_count").fetchone()[0])
            if free == 0:
                break
            connection.execute(f"PRAGMA incremental_vacuum({VACUUM_PAGES_PER_STEP})").fetchall()
            released += min(free, VACUUM_PAGES_PER_STEP)
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # never waits
    finally:
        connection.close()
    return released


class WalCheckpointer:
    """A daemon thread that checkpoints the SQLite WAL every ``every`` seconds (``PASSIVE``:
    it never waits for, nor blocks, readers and writers), so that the process writing task
    rows does not stop to do it in its commits. No-op on other databases."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not settings.is_sqlite or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=30)

    def _run(self) -> None:
        from optimizer_app.core.logging import logger

        path = make_url(settings.resolved_database_url).database
        connection = sqlite3.connect(path or ":memory:", isolation_level=None, timeout=30)
        try:
            while not self._stop.wait(self.every):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # next round tries again; commits are the backstop
                    logger.bind(error=str(exc)).warning("WAL checkpoint failed")
        finally:
            connection.close()


class CommitWatch:
    """Tells, for a few microseconds, whether another connection committed to the database
    since the last call (SQLite's ``PRAGMA data_version`` on a connection of its own), so an
    idle loop can react to a new row at once instead of on its next poll. ``changed()`` is
    None where the database cannot tell (PostgreSQL): the caller keeps to its poll interval.
    One thread only."""

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None
        if settings.is_sqlite:
            path = make_url(settings.resolved_database_url).database
            if path and path != ":memory:":
                self._connection = sqlite3.connect(path, isolation_level=None, timeout=30)

    @property
    def watching(self) -> bool:
        """Whether ``changed()`` can tell (SQLite on a file)."""
        return self._connection is not None

    def changed(self) -> bool | None:
        if self._connection is None:
            return None
        try:
            version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return True  # cannot tell: let the caller look
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

"""Test-wide settings: a private data folder, cheap password hashing, no background orchestrator.

Environment variables are set before the application is imported, because the one settings
object is read at import time."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_DATA_DIR = Path(tempfile.mkdtemp(prefix="optimizer-test-"))
os.environ.setdefault("OPTIMIZER_ENV", "test")
os.environ.setdefault("OPTIMIZER_DATA_DIR", str(_DATA_DIR))
os.environ.setdefault("OPTIMIZER_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("OPTIMIZER_ARGON2_TIME_COST", "1")
os.environ.setdefault("OPTIMIZER_RUN_ORCHESTRATOR", "false")
os.environ.setdefault("OPTIMIZER_LOG_LEVEL", "WARNING")
# Tests sign in from one address many times; per-account throttling stays at its default.
os.environ.setdefault("OPTIMIZER_LOGIN_MAX_FAILURES_PER_ADDRESS", "1000")

import pytest  # noqa: E402
from alembic.config import Config  # noqa: E402

from alembic import command  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def migrated_db() -> Iterator[str]:
    """The default (SQLite, WAL) database of the test session, migrated to head."""
    from optimizer_app.core.config import settings

    url = settings.resolved_database_url
    migrate(url)
    yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    from tests.support.postgres import start_postgres, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"\nPostgreSQL tests not run: {reason}")
        pytest.skip(reason)
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()

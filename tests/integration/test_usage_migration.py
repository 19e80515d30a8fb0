"""Migration 0008 enters the jobs that exist already in the usage ledger."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from alembic import command
from optimizer_app.persistence.db import build_engine
from optimizer_app.persistence.models import JobStatus, User
from tests.conftest import alembic_config
from tests.support.factories import JobSpec, bundled_dataset, make_job


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"m_{uuid.uuid4().hex[:10]}")  # type: ignore[no-any-return]


def _hex(value: object) -> str:
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")


def test_existing_jobs_are_entered_in_the_ledger(empty_url: str) -> None:
    url = empty_url
    cfg = alembic_config(url)
    command.upgrade(cfg, "0007")
    engine = build_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        user = User(email="old@example.com", password_hash="x")
        session.add(user)
        session.flush()
        dataset = bundled_dataset(session)
        done = make_job(session, owner_id=user.id, dataset_id=dataset.id,
                        spec=JobSpec(tasks=20, total=20))
        live = make_job(session, owner_id=user.id, dataset_id=dataset.id,
                        spec=JobSpec(tasks=0, total=30, status=JobStatus.QUEUED))
        session.commit()
    engine.dispose()

    command.upgrade(cfg, "head")
    engine = build_engine(url)
    with engine.connect() as conn:
        rows = {_hex(row.job_id): row for row in conn.execute(sa.text(
            "SELECT job_id, owner_id, combinations, combinations_run, stored_bytes, ended_at "
            "FROM usage_records"))}
    engine.dispose()
    assert len(rows) == 2
    finished = rows[done.id.hex]
    assert finished.combinations == 20 and finished.combinations_run == 20
    assert finished.ended_at is not None and finished.stored_bytes == 20 * 300
    queued = rows[live.id.hex]
    assert queued.combinations == 30 and queued.combinations_run is None
    assert queued.ended_at is None and queued.stored_bytes == 30 * 300
    command.downgrade(cfg, "0007")

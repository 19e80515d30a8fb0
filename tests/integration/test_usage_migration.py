"""Migration 0008 enters the jobs that exist already in the usage ledger."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from alembic import command
from optimizer_app.persistence.db import build_engine
from optimizer_app.persistence.models import JobStatus, User, utcnow
from tests.conftest import alembic_config
from tests.support.factories import bundled_dataset


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"m_{uuid.uuid4().hex[:10]}")  # type: ignore[no-any-return]


def _hex(value: object) -> str:
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")


_JOBS_0007 = sa.table(
    "optimization_jobs",
    *(sa.column(name, kind) for name, kind in (
        ("id", sa.Uuid()), ("owner_id", sa.Uuid()), ("name", sa.String()),
        ("strategy", sa.String()), ("dataset_id", sa.Uuid()), ("param_space", sa.JSON()),
        ("early_stop_policy", sa.JSON()), ("backtest_options", sa.JSON()),
        ("status", sa.String()), ("summary", sa.JSON()), ("constraints", sa.JSON()),
        ("grid_order", sa.String()), ("created_at", sa.DateTime(timezone=True)),
        ("updated_at", sa.DateTime(timezone=True)), ("started_at", sa.DateTime(timezone=True)),
        ("finished_at", sa.DateTime(timezone=True)), ("exec_seconds", sa.Float()),
        ("cancel_requested", sa.Boolean()),
    )),
)


def _old_job(session: Session, owner: uuid.UUID, dataset: uuid.UUID, status: JobStatus, *,
             total: int, done: int) -> SimpleNamespace:
    job_id, now = uuid.uuid4(), utcnow()
    ended = now if status.is_terminal else None
    session.execute(sa.insert(_JOBS_0007).values(
        id=job_id, owner_id=owner, name="old", strategy="sma_cross", dataset_id=dataset,
        param_space={"fast": {"values": [5]}, "slow": {"values": [60]}},
        early_stop_policy={"mode": "max", "metric": "sharpe", "topN": 10}, backtest_options={},
        status=status.value, summary={"total": total, "finished": done, "failed": 0,
                                      "topN": []},
        constraints=[], grid_order="sequential", created_at=now, updated_at=now,
        started_at=ended, finished_at=ended, exec_seconds=1.0 if ended else None,
        cancel_requested=False,
    ))
    return SimpleNamespace(id=job_id)


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
        # job rows as they were at 0007 (the models have columns added since)
        done = _old_job(session, user.id, dataset.id, JobStatus.SUCCEEDED, total=20, done=20)
        live = _old_job(session, user.id, dataset.id, JobStatus.QUEUED, total=30, done=0)
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

"""Schema and database behaviour on SQLite (embedded default) and a real PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from alembic import command
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.orchestration.rows import task_rows
from optimizer_app.persistence.db import build_engine
from optimizer_app.persistence.models import (
    Dataset,
    OptimizationJob,
    OptimizationTask,
    TaskStatus,
    User,
)
from optimizer_app.persistence.tasks import insert_tasks, timestamp_text
from tests.conftest import alembic_config, migrate


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'p.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"p_{uuid.uuid4().hex[:10]}")
    migrate(url)
    return url


def _user_job(session: Session) -> OptimizationJob:
    user = User(email=f"{uuid.uuid4().hex}@example.com", password_hash="x")
    dataset = Dataset(
        name="GOOG daily",
        symbol="GOOG",
        rows=3,
        first_date=date(2020, 1, 1),
        last_date=date(2020, 1, 3),
        checksum="c" * 64,
        storage_path="/nowhere.csv",
    )
    session.add(user)
    session.add(dataset)
    session.flush()
    job = OptimizationJob(
        owner_id=user.id,
        name="j",
        strategy="sma_cross",
        dataset_id=dataset.id,
        param_space={"fast": {"values": [1]}},
        summary={"total": 1, "finished": 0, "failed": 0, "topN": []},
    )
    session.add(job)
    session.flush()
    return job


def test_migrations_match_the_models(db_url: str) -> None:
    command.check(alembic_config(db_url))


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    command.check(cfg)


def test_json_round_trip_and_unique_task_index(db_url: str) -> None:
    engine = build_engine(db_url)
    with Session(engine) as session:
        job = _user_job(session)
        job_id = job.id
        session.add(
            OptimizationTask(
                id=uuid.uuid5(job_id, "0"),
                job_id=job_id,
                index=0,
                params={"fast": 5},
                status="succeeded",
                score=1.5,
            )
        )
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(OptimizationJob).where(OptimizationJob.id == job_id)).one()
        assert stored.param_space == {"fast": {"values": [1]}}
        assert stored.summary["total"] == 1
        session.add(
            OptimizationTask(id=uuid.uuid4(), job_id=job_id, index=0, params={}, status="succeeded")
        )
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()


def test_bulk_task_batch_round_trips_hostile_text(db_url: str) -> None:
    """The bulk path binds a chunk's shared columns with every row: quotes,
    SQL and NUL characters in an error message arrive as text, and a batch written twice is
    stored once."""
    engine = build_engine(db_url)
    dialect = engine.dialect.name
    error = "it's \"bad\"'); DROP TABLE optimization_tasks; -- \x00 100%"
    with Session(engine) as session:
        job = _user_job(session)
        job_id = job.id
        stamp = timestamp_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), dialect=dialect)
        batch = task_rows(
            job_id=job_id, indices=[0, 1, 2], params=['{"fast":1}'] * 3,
            status=TaskStatus.FAILED, scores=None, metrics=None, attempts=3, error=error,
            started_at=stamp, finished_at=stamp,
        )
        insert_tasks(session=session, batch=batch)
        insert_tasks(session=session, batch=batch)  # idempotent
        session.commit()
    with Session(engine) as session:
        stored = session.exec(
            select(OptimizationTask).where(OptimizationTask.job_id == job_id)
        ).all()
        assert sorted(t.index for t in stored) == [0, 1, 2]
        assert {t.error for t in stored} == {error.replace("\x00", "")}
        assert {t.id for t in stored} == {task_id_for(job_id, i) for i in range(3)}
        assert all(t.attempts == 3 and t.status == "failed" and t.params == {"fast": 1}
                   for t in stored)
        assert {t.finished_at.replace(tzinfo=UTC) for t in stored} == {  # type: ignore[union-attr]
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        }
    engine.dispose()


def test_bulk_insert_in_blocks_stores_every_row_once(db_url: str) -> None:
    """Rows go in statements of many rows (whole blocks and a rest); rows already stored
    (here every third one, written first) are skipped, the others all arrive intact."""
    from optimizer_app.persistence.tasks import SQLITE_ROWS_PER_STATEMENT

    engine = build_engine(db_url)
    count = 2 * SQLITE_ROWS_PER_STATEMENT + 37
    indices = list(range(count))

    def batch(chosen: list[int]):  # type: ignore[no-untyped-def]
        return task_rows(
            job_id=job_id, indices=chosen, params=[f'{{"fast":{i}}}' for i in chosen],
            status=TaskStatus.SUCCEEDED, scores=[i / 7 for i in chosen],
            metrics=None, attempts=1, error=None, started_at=None,  # type: ignore[arg-type]
            finished_at=None,  # type: ignore[arg-type]
        )

    with Session(engine) as session:
        job_id = _user_job(session).id
        insert_tasks(session=session, batch=batch(indices[::3]))
        insert_tasks(session=session, batch=batch(indices))
        session.commit()
    with Session(engine) as session:
        stored = session.exec(
            select(OptimizationTask).where(OptimizationTask.job_id == job_id)
        ).all()
    assert sorted(t.index for t in stored) == indices
    assert all(t.params == {"fast": t.index} and t.score == t.index / 7
               and t.id == task_id_for(job_id, t.index) for t in stored)
    engine.dispose()


def test_compact_metrics_read_back_by_name_old_object_rows_as_they_are(db_url: str) -> None:
    import numpy as np

    from optimizer_app.domain.jsontext import metric_lines
    from optimizer_app.domain.stats import METRIC_KEYS

    engine = build_engine(db_url)
    raw = {key: np.array([0.25, np.nan]) for key in METRIC_KEYS}
    raw["trades"] = np.array([7.0, 0.0])
    with Session(engine) as session:
        job = _user_job(session)
        job_id = job.id
        batch = task_rows(
            job_id=job_id, indices=[0, 1], params=['{"fast":1}'] * 2,
            status=TaskStatus.SUCCEEDED, scores=[0.25, None],
            metrics=metric_lines(raw, 2).split("\n"), attempts=1, error=None,
            started_at=None, finished_at=None,  # type: ignore[arg-type]
        )
        insert_tasks(session=session, batch=batch)
        session.add(OptimizationTask(id=task_id_for(job_id, 2), job_id=job_id, index=2,
                                     params={"fast": 2}, status="succeeded",
                                     metrics={"sharpe": 1.0, "trades": 3}))  # an older row
        session.commit()
    with Session(engine) as session:
        stored = {t.index: t.metrics for t in session.exec(
            select(OptimizationTask).where(OptimizationTask.job_id == job_id))}
    assert list(stored[0]) == list(METRIC_KEYS)  # type: ignore[arg-type]
    assert stored[0]["sharpe"] == 0.25 and stored[0]["trades"] == 7  # type: ignore[index]
    assert isinstance(stored[0]["trades"], int)  # type: ignore[index]
    assert stored[1]["sharpe"] is None and stored[1]["trades"] == 0  # type: ignore[index]
    assert stored[2] == {"sharpe": 1.0, "trades": 3}
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    engine = build_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_sqlite_concurrent_read_then_write_loses_nothing(tmp_path) -> None:
    """Read-modify-write from several threads: BEGIN IMMEDIATE serializes them, no lost update."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate(url)
    engine = build_engine(url)
    with Session(engine) as session:
        job_id = _user_job(session).id
        session.commit()

    errors: list[Exception] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with Session(engine) as session:
                    job = session.get(OptimizationJob, job_id)
                    assert job is not None
                    summary = dict(job.summary)
                    summary["finished"] += 1
                    job.summary = summary
                    session.add(job)
                    session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT summary FROM optimization_jobs")).scalar()
    assert '"finished": 100' in raw
    engine.dispose()


def test_commit_watch_sees_what_other_connections_commit(db_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer_app.core.config import settings
    from optimizer_app.persistence.db import CommitWatch

    monkeypatch.setitem(settings.__dict__, "resolved_database_url", db_url)
    watch = CommitWatch()
    try:
        if db_url.startswith("postgresql"):
            assert watch.changed() is None  # cannot tell: the orchestrator keeps to its poll
            return
        assert watch.changed() is True  # the first look always looks
        assert watch.changed() is False
        engine = build_engine(db_url)
        with Session(engine) as session:
            _user_job(session)
            assert watch.changed() is False  # not committed yet
            session.commit()
        assert watch.changed() is True
        assert watch.changed() is False
        with Session(engine) as session:  # a read-only transaction is no change
            session.exec(select(OptimizationJob)).all()
        assert watch.changed() is False
        engine.dispose()
    finally:
        watch.close()


def test_the_history_progress_query_reads_only_the_owners_jobs(db_url: str) -> None:
    """The history page's refresh of its live jobs (``jobs.owned_jobs_progress``'s one
    statement): each asked job of the owner with its status, summary and policy, and how
    many jobs the owner has; another owner's job is not read."""
    from optimizer_app.persistence.jobs import _PROGRESS_QUERY

    engine = build_engine(db_url)
    with Session(engine) as session:
        mine = _user_job(session)
        theirs = _user_job(session)
        second = OptimizationJob(owner_id=mine.owner_id, name="k", strategy="sma_cross",
                                 dataset_id=mine.dataset_id, status="running",
                                 param_space={"fast": {"values": [1]}},
                                 early_stop_policy={"metric": "sharpe"},
                                 summary={"total": 9, "finished": 4, "failed": 0, "topN": []})
        session.add(second)
        session.commit()
        owner, asked = mine.owner_id, [mine.id, second.id, theirs.id]
        expected = {mine.id: (mine.status, 0, None), second.id: ("running", 4, "sharpe")}
    with engine.connect() as connection:
        rows = connection.execute(_PROGRESS_QUERY, {"owner_id": owner, "job_ids": asked}).all()
    assert {r.id: (r.status, r.summary["finished"], (r.early_stop_policy or {}).get("metric"))
            for r in rows} == expected
    assert {r.jobs for r in rows} == {2}
    engine.dispose()

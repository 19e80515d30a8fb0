"""Migration 0011 moves the task rows of every job — any status — into the results store and
keeps in SQL only the rows that link something (Top-N entries, failed combinations); on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from alembic.script import ScriptDirectory
from sqlmodel import Session, select

from alembic import command
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import build_engine
from optimizer_app.persistence.models import (
    Dataset,
    JobStatus,
    OptimizationJob,
    OptimizationTask,
    ResultFile,
    ResultSummary,
    User,
)
from optimizer_app.persistence.tasks import result_id_for
from tests.conftest import alembic_config

METRICS = {"finalEquity": 12000.5, "totalReturn": 0.2, "cagr": 0.05, "sharpe": 0.9,
           "sortino": 1.1, "maxDrawdown": 0.12, "winRate": 0.5, "trades": 12,
           "profitFactor": 1.4, "exposure": 0.6}


@pytest.fixture(params=["sqlite", "postgres"])
def old_db(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database at the revision before the results store."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"m_{uuid.uuid4().hex[:10]}")
    cfg = alembic_config(url)
    before = ScriptDirectory.from_config(cfg).get_revision("0011").down_revision
    command.upgrade(cfg, str(before))
    return url


def _job(session: Session, owner: uuid.UUID, dataset: uuid.UUID, status: JobStatus,
         rows: list[tuple[str, float | None]], linked: set[int]) -> uuid.UUID:
    job = OptimizationJob(owner_id=owner, name=status.value, strategy="sma_cross",
                          dataset_id=dataset, status=status.value,
                          param_space={"fast": {"start": 1, "stop": 20, "step": 1},
                                       "slow": {"values": [50]}},
                          early_stop_policy={"mode": "max", "metric": "sharpe", "topN": 3},
                          summary={"total": 20, "finished": 0, "failed": 0, "topN": []})
    session.add(job)
    session.flush()
    for index, (task_status, score) in enumerate(rows):
        task_id = task_id_for(job.id, index)
        ok = task_status == "succeeded"
        session.add(OptimizationTask(
            id=task_id, job_id=job.id, index=index, params={"fast": index + 1, "slow": 50},
            status=task_status, score=score,
            metrics={**METRICS, "sharpe": score} if ok else None,
            error=None if ok else "worker died",
            result_summary_id=result_id_for(task_id) if index in linked else None,
        ))
        session.flush()
        if index in linked:
            session.add(ResultSummary(id=result_id_for(task_id), task_id=task_id,
                                      metrics=METRICS, artifacts=[]))
    return job.id


def test_every_job_moves_into_the_store(old_db: str) -> None:
    engine = build_engine(old_db)
    with Session(engine) as session:
        user = User(email=f"{uuid.uuid4().hex}@example.com", password_hash="x")
        dataset = Dataset(name="d", symbol="D", rows=3, first_date=date(2020, 1, 1),
                          last_date=date(2020, 1, 3), checksum="c" * 64, storage_path="/x")
        session.add(user)
        session.add(dataset)
        session.flush()
        plan = {
            JobStatus.SUCCEEDED: ([("succeeded", 0.1 * k) for k in range(6)], {5, 4}),
            JobStatus.FAILED: ([("failed", None), ("failed", None)], set()),
            JobStatus.EARLY_STOPPED: ([("succeeded", 0.3), ("failed", None),
                                       ("succeeded", None)], {0}),
            JobStatus.CANCELED: ([("succeeded", 0.2)], {0}),
            JobStatus.RUNNING: ([("succeeded", 0.5), ("succeeded", 0.4)], {0, 1}),
            JobStatus.QUEUED: ([], set()),
        }
        ids = {status: _job(session, user.id, dataset.id, status, rows, linked)
               for status, (rows, linked) in plan.items()}
        session.commit()
    engine.dispose()

    command.upgrade(alembic_config(old_db), "head")

    engine = build_engine(old_db)
    with Session(engine) as session:
        for status, (rows, linked) in plan.items():
            job_id = ids[status]
            files = results_store.job_results(session=session, job_id=job_id)
            failed = sum(1 for s, _ in rows if s == "failed")
            assert (files.rows, files.failed) == (len(rows), failed), status
            if not rows:
                assert files.names == ()
                continue
            table = pa.concat_tables([pq.read_table(p) for p in files.paths]).sort_by("index")
            assert table.column("index").to_pylist() == list(range(len(rows)))
            assert table.column("status").to_pylist() == [0 if s == "succeeded" else 1
                                                          for s, _ in rows]
            assert table.column("score").to_pylist() == [
                score if s == "succeeded" else None for s, score in rows]
            assert table.column("p_fast").to_pylist() == [k + 1 for k in range(len(rows))]
            kept = session.exec(
                select(OptimizationTask.index).where(OptimizationTask.job_id == job_id)
            ).all()
            expected = {k for k, (s, _) in enumerate(rows) if s == "failed" or k in linked}
            assert set(kept) == expected, status
        assert len(session.exec(select(ResultSummary)).all()) == 6
        assert all(f.kind == "chunk" for f in session.exec(select(ResultFile)).all())
    engine.dispose()

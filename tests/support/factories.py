"""Test factories: users, datasets and finished (or running) jobs written straight through the
persistence layer, with tasks (metrics on the task row), result summaries and artifact files
for the Top-N — no orchestrator needed.

Ids follow the orchestrator's rules: task ``uuid5(job_id, str(index))``, result
``uuid5(task_id, "result")``. As the orchestrator does, only tasks that get artifacts (here:
the Top-N) have a result summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlmodel import Session

from optimizer_app.domain.results_file import (
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    chunk_table,
    write_table,
)
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.orchestration.artifacts import artifact_kind, get_artifact_store
from optimizer_app.persistence import results_store
from optimizer_app.persistence.models import (
    Dataset,
    JobStatus,
    OptimizationJob,
    OptimizationTask,
    ResultSummary,
    TaskStatus,
    User,
    utcnow,
)
from optimizer_app.persistence.tasks import result_id_for
from optimizer_app.services.bootstrap import ensure_bundled_datasets

ARTIFACT_NAMES = ("equity.csv", "trades.csv")


def delete_artifact(job_id: uuid.UUID, task_id: uuid.UUID, name: str) -> None:
    """Remove one stored artifact file (the local store), as if it had been lost."""
    store = get_artifact_store()
    store.path_for(job_id, task_id, name).unlink()  # type: ignore[attr-defined]


def make_user(session: Session, email: str | None = None) -> User:
    user = User(email=email or f"user-{uuid.uuid4().hex[:10]}@example.com", password_hash="x")
    session.add(user)
    session.flush()
    return user


def bundled_dataset(session: Session) -> Dataset:
    return ensure_bundled_datasets(session=session)[0]


def metrics_for(index: int, score: float, metric: str) -> dict[str, Any]:
    """Plausible metrics; the score metric carries the score, some values are negative."""
    values: dict[str, Any] = {key: round(0.01 * (index + 1) - 0.05, 6) for key in METRIC_KEYS}
    values["trades"] = 3 + index
    values["finalEquity"] = 10_000.0 + 100.0 * index
    values[metric] = score
    return values


@dataclass
class JobSpec:
    status: JobStatus = JobStatus.SUCCEEDED
    tasks: int = 6
    total: int | None = None
    top_n: int = 3
    mode: str = "max"
    metric: str = "sharpe"
    failed: int = 0
    failure_category: str = "lost"  # of the failed tasks
    artifacts: bool = True
    source_job_id: uuid.UUID | None = None
    name: str | None = None
    age_seconds: float = 0.0
    extra_params: dict[str, Any] = field(default_factory=dict)
    policy_extra: dict[str, Any] = field(default_factory=dict)


def _score(index: int) -> float:
    # Distinct, spread around zero (negative scores exercise CSV number handling).
    return round(1.5 - 0.37 * index + 0.001 * index * index, 6)


def make_job(
    session: Session, *, owner_id: uuid.UUID, dataset_id: uuid.UUID, spec: JobSpec | None = None
) -> OptimizationJob:
    spec = spec or JobSpec()
    now = utcnow() - timedelta(seconds=spec.age_seconds)
    job_id = uuid.uuid4()
    params = [{"fast": 5 + i, "slow": 60, **spec.extra_params} for i in range(spec.tasks)]
    entries = []
    store = get_artifact_store()
    job = OptimizationJob(
        id=job_id, owner_id=owner_id, name=spec.name or f"job {job_id.hex[:6]}",
        strategy="sma_cross", dataset_id=dataset_id,
        param_space={"fast": {"start": 5, "stop": 5 + spec.tasks - 1, "step": 1},
                     "slow": {"values": [60]}},
        early_stop_policy={"mode": spec.mode, "metric": spec.metric, "topN": spec.top_n,
                           **spec.policy_extra},
        backtest_options={"initialCash": 10000.0, "commission": 0.002},
        status=spec.status.value, source_job_id=spec.source_job_id,
        created_at=now, updated_at=now,
        started_at=None if spec.status == JobStatus.QUEUED else now,
        finished_at=now if spec.status.is_terminal else None,
    )
    session.add(job)
    session.flush()
    task_rows: list[OptimizationTask] = []
    for index, combo in enumerate(params):
        task_id = task_id_for(job_id, index)
        failed = index >= spec.tasks - spec.failed
        score = None if failed else _score(index)
        metrics = None if failed else metrics_for(index, score, spec.metric)  # type: ignore[arg-type]
        task = OptimizationTask(
            id=task_id, job_id=job_id, index=index, params=combo,
            status=(TaskStatus.FAILED if failed else TaskStatus.SUCCEEDED).value, score=score,
            metrics=metrics, error="worker died" if failed else None,
            error_category=spec.failure_category if failed else None,
            started_at=now, finished_at=now,
        )
        session.add(task)
        task_rows.append(task)
        if not failed:
            entries.append({"taskId": str(task_id), "index": index, "score": score,
                            "params": combo, "metrics": metrics})
    session.flush()
    entries.sort(key=lambda e: e["score"], reverse=spec.mode != "min")
    for entry in entries[: spec.top_n]:
        task = task_rows[entry["index"]]
        result_id = result_id_for(task.id)
        task.result_summary_id = result_id
        artifacts = []
        if spec.artifacts:
            for name in ARTIFACT_NAMES:
                data = f"index,{name}\n{task.index},{task.score}\n".encode()
                uri = store.put(job_id, task.id, name, data)
                artifacts.append({"name": name, "kind": artifact_kind(name), "uri": uri})
        session.add(task)
        session.add(ResultSummary(id=result_id, task_id=task.id, metrics=entry["metrics"],
                                  artifacts=artifacts))
    _store_results(session, job_id, task_rows)
    job.summary = {
        "total": spec.total if spec.total is not None else spec.tasks,
        "finished": spec.tasks - spec.failed,
        "failed": spec.failed,
        "failures": {spec.failure_category: spec.failed} if spec.failed else {},
        "topN": entries[: spec.top_n],
    }
    session.add(job)
    session.flush()
    return job


def _store_results(session: Session, job_id: uuid.UUID, rows: list[OptimizationTask]) -> None:
    """The job's rows in the results store too (one file), as the orchestrator leaves them."""
    if not rows:
        return
    ok = [row.status == TaskStatus.SUCCEEDED.value for row in rows]
    indices = np.asarray([row.index for row in rows], dtype=np.int64)
    params = {name: np.asarray([row.params[name] for row in rows]) for name in rows[0].params}

    def column(key: str) -> np.ndarray:
        return np.asarray([(row.metrics or {}).get(key, np.nan) if good else np.nan
                           for row, good in zip(rows, ok, strict=True)], dtype=np.float64)

    metrics = {key: column(key) for key in METRIC_KEYS}
    metrics["trades"] = np.nan_to_num(metrics["trades"]).astype(np.int64)
    scores = np.asarray([np.nan if row.score is None else row.score for row in rows])
    table = chunk_table(indices=indices, params=params, scores=scores, passes=None,
                        metrics=metrics)
    status = pa.array(np.where(ok, STATUS_SUCCEEDED, STATUS_FAILED).astype(np.int8))
    table = table.set_column(table.schema.get_field_index("status"), "status", status)
    name, size = write_table(table, results_store.job_dir(job_id))
    results_store.add_file(session=session, job_id=job_id, name=name, rows=len(rows),
                           failed=len(rows) - sum(ok), size=size)

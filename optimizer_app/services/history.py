"""The caller's optimization history: jobs newest first with lineage, one job, its tasks."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, func, select

from optimizer_app.core.errors import NotFoundError
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.persistence import jobs, results_store
from optimizer_app.persistence.models import (
    Dataset,
    OptimizationJob,
    OptimizationTask,
    ResultSummary,
)
from optimizer_app.services.optimizations import best_score_of, job_to_public, summary_of
from optimizer_app.services.schemas import (
    JobPublic,
    JobsPublic,
    JobSummary,
    TaskPublic,
    TasksPublic,
)

TaskSort = Literal["score", "index"]
SortOrder = Literal["desc", "asc"]
TaskStatusFilter = Literal["succeeded", "failed"]


def owned_job_or_404(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
                     ) -> OptimizationJob:
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"optimization {job_id} not found")
    return job


def _names(session: Session, model: Any, ids: set[uuid.UUID], **where: Any
           ) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    query = select(model.id, model.name).where(col(model.id).in_(ids))
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return {row[0]: row[1] for row in session.exec(query).all()}


def _rerun_ids(session: Session, owner_id: uuid.UUID, job_ids: list[uuid.UUID]
               ) -> dict[uuid.UUID, list[uuid.UUID]]:
    reruns: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not job_ids:
        return reruns
    rows = session.exec(
        select(OptimizationJob.id, OptimizationJob.source_job_id)
        .where(col(OptimizationJob.source_job_id).in_(job_ids),
               OptimizationJob.owner_id == owner_id)
        .order_by(col(OptimizationJob.created_at), col(OptimizationJob.id))
    ).all()
    for rerun_id, source_id in rows:
        if source_id is not None:
            reruns[source_id].append(rerun_id)
    return reruns


def _with_lineage(session: Session, owner_id: uuid.UUID, jobs: list[OptimizationJob]
                  ) -> list[JobPublic]:
    """Public jobs with dataset name, source job name and re-run ids: three batched reads."""
    sources = _names(session, OptimizationJob,
                     {j.source_job_id for j in jobs if j.source_job_id}, owner_id=owner_id)
    datasets = _names(session, Dataset, {j.dataset_id for j in jobs})
    reruns = _rerun_ids(session, owner_id, [j.id for j in jobs])
    return [
        job_to_public(
            job,
            dataset_name=datasets.get(job.dataset_id),
            source_job_name=sources.get(job.source_job_id) if job.source_job_id else None,
            rerun_ids=reruns.get(job.id, []),
        )
        for job in jobs
    ]


def list_jobs(
    *,
    session: Session,
    owner_id: uuid.UUID,
    limit: int = 20,
    offset: int = 0,
    status: str | None = None,
) -> JobsPublic:
    """The owner's jobs, newest first, with progress, best score and lineage."""
    where = [OptimizationJob.owner_id == owner_id]
    if status is not None:
        where.append(OptimizationJob.status == status)
    count = session.exec(select(func.count()).select_from(OptimizationJob).where(*where)).one()
    page = session.exec(
        select(OptimizationJob)
        .where(*where)
        .order_by(col(OptimizationJob.created_at).desc(), col(OptimizationJob.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return JobsPublic(data=_with_lineage(session, owner_id, list(page)), count=int(count))


@dataclass(frozen=True)
class LiveProgress:
    """What the history page refreshes of a live job: its status, and its progress and best
    score (``summary``, scored by ``metric``)."""

    status: str
    summary: JobSummary
    metric: str

    @property
    def best_score(self) -> float | None:
        """As ``JobPublic.best_score``: the first of the Top-N."""
        return best_score_of(self.summary)


def live_progress(*, owner_id: uuid.UUID, job_ids: list[uuid.UUID]
                  ) -> tuple[int | None, dict[uuid.UUID, LiveProgress]]:
    """How many jobs the owner has (None when none of ``job_ids`` is theirs) and the
    progress of each of ``job_ids`` that is: one statement, so that a history page showing
    a running job refreshes it without reading the whole page again."""
    rows = jobs.owned_jobs_progress(owner_id=owner_id, job_ids=job_ids)
    found = {
        row.id: LiveProgress(status=row.status, summary=summary_of(row.summary),
                             metric=str((row.early_stop_policy or {}).get("metric") or ""))
        for row in rows
    }
    return (int(rows[0].jobs) if rows else None), found


def get_job(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID) -> JobPublic:
    job = owned_job_or_404(session=session, owner_id=owner_id, job_id=job_id)
    return _with_lineage(session, owner_id, [job])[0]


def _task_public(task: OptimizationTask, result: ResultSummary | None) -> TaskPublic:
    """Metrics from the task row; artifact links from its result summary (only tasks that
    entered the Top-N have one)."""
    public = TaskPublic.model_validate(task)
    if result is not None:
        public.artifacts = [{"name": a.get("name"), "kind": a.get("kind")}
                            for a in result.artifacts or []]
    return public


def list_tasks(
    *,
    session: Session,
    owner_id: uuid.UUID,
    job_id: uuid.UUID,
    limit: int = 20,
    offset: int = 0,
    sort: TaskSort = "score",
    order: SortOrder | None = None,
    status: TaskStatusFilter | None = None,
) -> TasksPublic:
    """Finished combinations of an owned job with their metrics, read from the results store.
    Sorting by score puts the best first by default (the policy's direction); combinations
    without a score (failed, or failing a result constraint) come last. Rows that entered the
    Top-N or failed also have a task row: its exact metrics, artifact links and error."""
    job = owned_job_or_404(session=session, owner_id=owner_id, job_id=job_id)
    minimizing = (job.early_stop_policy or {}).get("mode") == "min"
    if order is None:
        best_first: SortOrder = "asc" if minimizing else "desc"
        order = best_first if sort == "score" else "asc"
    results = results_store.job_results(session=session, job_id=job.id)
    rows = results_store.page(
        results, sort=sort, descending=order == "desc", offset=offset, limit=limit,
        status=status, best_first_descending=not minimizing,
    )
    linked = {
        task.index: (task, result)
        for task, result in session.exec(
            select(OptimizationTask, ResultSummary)
            .outerjoin(ResultSummary, col(ResultSummary.task_id) == col(OptimizationTask.id))
            .where(OptimizationTask.job_id == job.id,
                   col(OptimizationTask.index).in_([row["index"] for row in rows]))
        ).all()
    } if rows else {}
    data = [
        _task_public(*linked[row["index"]]) if row["index"] in linked
        else _stored_task(job.id, row)
        for row in rows
    ]
    return TasksPublic(data=data, count=results.count(status))


def _stored_task(job_id: uuid.UUID, row: dict[str, Any]) -> TaskPublic:
    return TaskPublic(
        id=task_id_for(job_id, row["index"]),
        job_id=job_id,
        index=row["index"],
        params=row["params"],
        status=row["status"],
        score=row["score"],
        metrics=row["metrics"],
    )

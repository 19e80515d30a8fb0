"""Re-running a job's failed combinations: a new job over exactly the source's failed grid
indices, everything else copied from the source (``{"sourceJobId": …, "rerun": "failed"}``).

The new job keeps the grid's own combination indices: it stores them compactly
(``domain.subset``) and the orchestrator sends only those."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import ConflictError, NotFoundError, ValidationError
from optimizer_app.domain.grid import GridError, build_grid
from optimizer_app.domain.order import new_seed
from optimizer_app.domain.subset import encode_subset
from optimizer_app.domain.worker import WORKER_GRID_CAP
from optimizer_app.orchestration.board import empty_summary
from optimizer_app.orchestration.transitions import is_terminal
from optimizer_app.persistence import datasets as dataset_queries
from optimizer_app.persistence import jobs, tasks
from optimizer_app.persistence.models import JobStatus, OptimizationJob
from optimizer_app.services.optimizations import NewJob
from optimizer_app.services.schemas import JobCreate

MAX_NAME = 200
# With "rerun", these come from the source job; a body that sets them is refused.
COPIED_FIELDS = {
    "strategy": "strategy", "dataset_id": "datasetId", "param_space": "paramSpace",
    "early_stop_policy": "earlyStopPolicy", "backtest_options": "backtestOptions",
    "constraints": "constraints", "seed": "seed",
}


def _refuse_overrides(body: JobCreate) -> None:
    given = [name for attr, name in COPIED_FIELDS.items() if getattr(body, attr) is not None]
    if "grid_order" in body.model_fields_set:
        given.append("gridOrder")
    if body.source_job_id is None:
        raise ValidationError(
            'a re-run with "rerun": "failed" needs sourceJobId: the job whose failed '
            "combinations to run again",
            details=[{"field": "sourceJobId", "problem": "required with rerun"}],
        )
    if given:
        raise ValidationError(
            f"a re-run of failed combinations copies {', '.join(given)} from its source job; "
            "leave them out (only name may be given)",
            details=[{"field": name, "problem": "copied from the source job"} for name in given],
        )


def _source(session: Session, owner_id: uuid.UUID, source_id: uuid.UUID) -> OptimizationJob:
    source = jobs.get_owned_job(session=session, job_id=source_id, owner_id=owner_id)
    if source is None:
        raise NotFoundError(f"source job {source_id} not found")
    if not is_terminal(source.status):
        raise ConflictError(
            f"the source job is still {source.status}; its failed combinations can be re-run "
            "once it has ended",
            details=[{"field": "sourceJobId", "problem": f"job is {source.status}"}],
        )
    return source


def prepare_failed_rerun(*, session: Session, owner_id: uuid.UUID, body: JobCreate) -> NewJob:
    """The ``NewJob`` (see ``services.optimizations``) re-running the source's failed
    combinations; reads only. Raise ValidationError (422), NotFoundError (404) or
    ConflictError (409: the source is live, or none of its combinations failed)."""
    _refuse_overrides(body)
    assert body.source_job_id is not None
    source = _source(session, owner_id, body.source_job_id)
    failed = tasks.failed_indices(session=session, job_id=source.id)
    if not failed:
        raise ConflictError(
            "the source job has no failed combinations to re-run",
            details=[{"field": "sourceJobId", "problem": "no failed combinations"}],
        )
    dataset = dataset_queries.get_visible_dataset(
        session=session, dataset_id=source.dataset_id, owner_id=owner_id
    )
    if dataset is None:
        raise ConflictError("the source job's dataset no longer exists; it cannot be re-run")
    try:
        grid = build_grid(source.strategy, source.param_space,
                          cap=max(min(settings.grid_cap, WORKER_GRID_CAP),
                                  int((source.summary or {}).get("total") or 0)))
    except GridError as exc:
        raise ConflictError(f"the source job's grid cannot be built any more: {exc.message}"
                            ) from exc
    if failed[-1] >= grid.total:
        raise ConflictError("the source job's failed combinations do not fit its grid")
    name = (body.name or "").strip() or f"{source.name} (failed re-run)"
    job = OptimizationJob(
        owner_id=owner_id,
        name=name[:MAX_NAME],
        strategy=source.strategy,
        dataset_id=source.dataset_id,
        param_space=dict(source.param_space),
        early_stop_policy=dict(source.early_stop_policy),
        backtest_options=dict(source.backtest_options),
        status=JobStatus.QUEUED.value,
        summary=empty_summary(len(failed)),
        constraints=list(source.constraints or []),
        grid_order=source.grid_order,
        seed=source.seed if source.seed is not None else new_seed(),
        source_job_id=source.id,
        combination_subset=encode_subset(failed),
        rerun="failed",
        # the same in-sample scoring and out-of-sample checks as the source
        validation=dict(source.validation) if source.validation else None,
        validation_state="pending" if source.validation else None,
    )
    return NewJob(job, dataset.name, source.name, len(failed))

"""Optimization jobs: submit (and re-run), status and cancel.

Submitting validates everything and stores one ``queued`` row (no task rows: a job of
200,000 combinations is queued as fast as one of ten); the orchestrator process does the
rest. Cancel is a status change here, in the caller's transaction; the orchestrator
notices it within a poll interval and withdraws the job's pending work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import (
    ConflictError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from optimizer_app.core.logging import logger
from optimizer_app.domain.constraints import Constraint, parse_constraints
from optimizer_app.domain.constraints import as_json as constraint_json
from optimizer_app.domain.engine import BacktestOptions
from optimizer_app.domain.grid import Grid, GridError, build_grid
from optimizer_app.domain.order import new_seed
from optimizer_app.domain.policy import EarlyStopPolicy
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.domain.validation import Holdout, WalkForward, job_grid
from optimizer_app.domain.validation import as_json as validation_json
from optimizer_app.domain.worker import WORKER_GRID_CAP
from optimizer_app.orchestration.board import empty_summary
from optimizer_app.orchestration.deletion import purge_job
from optimizer_app.orchestration.transitions import is_terminal, observe_terminal, transition
from optimizer_app.orchestration.usage import open_record, reserved_bytes
from optimizer_app.persistence import datasets as dataset_queries
from optimizer_app.persistence import jobs
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import JobStatus, OptimizationJob
from optimizer_app.services import auth as auth_service
from optimizer_app.services import queue as queue_service
from optimizer_app.services import quotas as quota_service
from optimizer_app.services.schemas import (
    JobCreate,
    JobPublic,
    JobSummary,
    OptimizationStatusResponse,
)

MAX_NAME = 200


# -- validation -----------------------------------------------------------------------------


def _model_problems(field: str, exc: PydanticValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append({"field": f"{field}.{loc}" if loc else field, "problem": message})
    return problems


def _validated(model: type[BaseModel], field: str, raw: Any, problems: list[dict[str, str]]
               ) -> Any:
    if not isinstance(raw, dict):
        problems.append({"field": field, "problem": "must be an object"})
        return None
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        problems.extend(_model_problems(field, exc))
        return None


def _grid(body: JobCreate, problems: list[dict[str, str]]) -> Grid | None:
    try:
        # One limit end to end: never accept a grid the workers would refuse to expand.
        return build_grid(str(body.strategy), body.param_space or {},
                          cap=min(settings.grid_cap, WORKER_GRID_CAP))
    except GridError as exc:
        problems.extend(exc.details or [{"field": "paramSpace", "problem": exc.message}])
        return None


def _constraints(raw: Any, problems: list[dict[str, str]]) -> list[Constraint]:
    try:
        return parse_constraints(raw)
    except PydanticValidationError as exc:
        problems.extend(_model_problems("constraints", exc))
    except ValueError as exc:
        problems.append({"field": "constraints", "problem": str(exc)})
    return []


REQUIRED_FIELDS = {"strategy": "strategy", "dataset_id": "datasetId",
                   "param_space": "paramSpace", "early_stop_policy": "earlyStopPolicy"}


def _require_fields(body: JobCreate) -> None:
    """A new job (not a re-run of failed combinations) names everything it runs."""
    missing = [name for attr, name in REQUIRED_FIELDS.items() if getattr(body, attr) is None]
    if missing:
        _raise_problems([{"field": name, "problem": "Field required (only a re-run with "
                          "\"rerun\": \"failed\" copies it from its source job)"}
                         for name in missing])


def _validation(raw: Any, dataset: Any, problems: list[dict[str, str]]
                ) -> Holdout | WalkForward | None:
    """The job's validation settings, checked against the dataset's dates."""
    from optimizer_app.services.validation import check_validation  # avoids an import cycle

    try:
        return check_validation(raw, dataset)
    except PydanticValidationError as exc:
        problems.extend(_model_problems("validation", exc))
    except ValueError as exc:
        problems.append({"field": "validation", "problem": str(exc)})
    return None


def _check_folded_size(grid: Grid, spec: WalkForward, problems: list[dict[str, str]]) -> None:
    """Every fold runs the whole grid: folds × grid must stay within the grid cap."""
    cap = min(settings.grid_cap, WORKER_GRID_CAP)
    if grid.total * spec.folds > cap:
        problems.append({"field": "validation.folds", "problem": (
            f"{spec.folds} folds × {grid.total:,} combinations = {grid.total * spec.folds:,};"
            f" the limit is {cap:,} (use fewer folds or a smaller grid)")})


def _policy_json(policy: EarlyStopPolicy) -> dict[str, Any]:
    """The stored policy; ``rankBy`` only when it is not the default (ranking by score)."""
    stored = policy.model_dump(mode="json", by_alias=True)
    if stored.get("rankBy") == "score":
        del stored["rankBy"]
    return stored


def _raise_problems(problems: list[dict[str, str]]) -> None:
    shown = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    raise ValidationError(f"the job is invalid: {shown}{more}", details=problems)


def _default_name(strategy_name: str, dataset_name: str) -> str:
    try:
        label = get_strategy(strategy_name).label
    except UnknownStrategyError:
        label = strategy_name
    return f"{label} on {dataset_name}"[:MAX_NAME]


# -- public conversions ---------------------------------------------------------------------


def _summary(job: OptimizationJob) -> JobSummary:
    return summary_of(job.summary)


def summary_of(stored: dict[str, Any] | None) -> JobSummary:
    raw = stored or {}
    return JobSummary.model_validate(
        {
            "total": raw.get("total", 0),
            "finished": raw.get("finished", 0),
            "failed": raw.get("failed", 0),
            "constrained": raw.get("constrained", 0),
            "failures": raw.get("failures") or {},
            "topN": raw.get("topN", []),
        }
    )


def best_score_of(summary: JobSummary) -> float | None:
    """A job's best score: the first of its Top-N (None before any)."""
    return summary.top_n[0].score if summary.top_n else None


def job_to_public(
    job: OptimizationJob,
    *,
    dataset_name: str | None = None,
    source_job_name: str | None = None,
    rerun_ids: list[uuid.UUID] | None = None,
) -> JobPublic:
    summary = _summary(job)
    done = summary.finished + summary.failed
    return JobPublic(
        id=job.id,
        name=job.name,
        strategy=job.strategy,
        dataset_id=job.dataset_id,
        dataset_name=dataset_name,
        param_space=job.param_space,
        early_stop_policy=job.early_stop_policy,
        backtest_options=job.backtest_options,
        constraints=list(job.constraints or []),
        grid_order=job.grid_order,
        seed=job.seed,
        validation=job.validation,
        validation_state=job.validation_state,
        status=job.status,
        summary=summary,
        best_history=[
            (int(finished), float(score))
            for finished, score in (job.summary or {}).get("bestHistory") or []
        ],
        progress=min(1.0, done / summary.total) if summary.total else 0.0,
        best_score=best_score_of(summary),
        source_job_id=job.source_job_id,
        source_job_name=source_job_name,
        rerun_ids=rerun_ids or [],
        rerun=job.rerun,
        stop_reason=job.stop_reason,
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        queue_wait_seconds=job.queue_wait_seconds,
        exec_seconds=job.exec_seconds,
    )


def status_of(job: OptimizationJob, *, session: Session | None = None
              ) -> OptimizationStatusResponse:
    """The job's live status; with ``session``, a queued job's place in the queue too."""
    queue = None
    if session is not None and job.status == JobStatus.QUEUED.value:
        queue = queue_service.queue_info(session=session, job=job)
    return OptimizationStatusResponse(
        queue=queue,
        id=job.id,
        status=job.status,
        summary=_summary(job),
        stop_reason=job.stop_reason,
        queue_wait_seconds=job.queue_wait_seconds,
        exec_seconds=job.exec_seconds,
        updated_at=job.updated_at,
    )


# -- use cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """A submission checked completely and ready to store (built without the write lock)."""

    job: OptimizationJob
    dataset_name: str
    source_job_name: str | None
    total: int
    dataset_rows: int = 0
    quotas: quota_service.Quotas | None = None
    datasets_bytes: int = 0  # the owner's uploaded dataset files (read before the lock)


def prepare_job(*, session: Session, owner_id: uuid.UUID, body: JobCreate,
                quotas: quota_service.Quotas | None = None) -> NewJob:
    """Validate a job completely and build its row; reads only (the owner's ``quotas`` too,
    unless given). Raise NotFoundError (dataset or source job not visible to the owner) or
    ValidationError (422, with every problem found); a re-run of failed combinations also
    ConflictError (409)."""
    if body.rerun is not None:
        from optimizer_app.services.reruns import prepare_failed_rerun

        return prepare_failed_rerun(session=session, owner_id=owner_id, body=body)
    _require_fields(body)
    assert body.dataset_id is not None and body.strategy is not None
    dataset = dataset_queries.get_visible_dataset(
        session=session, dataset_id=body.dataset_id, owner_id=owner_id
    )
    if dataset is None:
        raise NotFoundError(f"dataset {body.dataset_id} not found")
    source = None
    if body.source_job_id is not None:
        source = jobs.get_owned_job(session=session, job_id=body.source_job_id, owner_id=owner_id)
        if source is None:
            raise NotFoundError(f"source job {body.source_job_id} not found")

    problems: list[dict[str, str]] = []
    grid = _grid(body, problems)
    policy = _validated(EarlyStopPolicy, "earlyStopPolicy", body.early_stop_policy, problems)
    options = _validated(BacktestOptions, "backtestOptions", body.backtest_options or {}, problems)
    constraints = _constraints(body.constraints, problems)
    validation = _validation(body.validation, dataset, problems)
    if grid is not None and isinstance(validation, WalkForward):
        _check_folded_size(grid, validation, problems)
    if problems or grid is None:
        _raise_problems(problems)
    assert grid is not None and policy is not None and options is not None
    total = job_grid(grid, validation).total
    job = OptimizationJob(
        owner_id=owner_id,
        name=(body.name or "").strip() or _default_name(body.strategy, dataset.name),
        strategy=grid.strategy,
        dataset_id=dataset.id,
        param_space=body.param_space or {},
        early_stop_policy=_policy_json(policy),
        backtest_options=options.model_dump(mode="json", by_alias=True),
        status=JobStatus.QUEUED.value,
        summary=empty_summary(total),
        constraints=constraint_json(constraints),
        grid_order=body.grid_order,
        seed=body.seed if body.seed is not None else new_seed(),
        validation=validation_json(validation),
        validation_state="pending" if validation is not None else None,
        source_job_id=source.id if source else None,
    )
    return NewJob(
        job, dataset.name, source.name if source else None, total,
        dataset_rows=dataset.rows,
        quotas=(quotas if quotas is not None
                else quota_service.quotas_of(session=session, user_id=owner_id)),
        datasets_bytes=quota_service.dataset_bytes(session=session, owner_id=owner_id),
    )


def store_job(*, session: Session, owner_id: uuid.UUID, new: NewJob) -> JobPublic:
    """Store a prepared job ``queued``: the quota checks (a few aggregate reads), the insert
    and its usage-ledger row, nothing else, so the write lock is held for a few statements.
    Raise QuotaExceededError (429 ``quota_exceeded``) naming every quota it would exceed."""
    jobs.lock_owner(session=session, owner_id=owner_id)
    demand = quota_service.Demand(new.total, reserved_bytes(new.total))
    found = quota_service.problems(
        session=session, owner_id=owner_id,
        quotas=new.quotas or quota_service.quotas_of(session=session, user_id=owner_id),
        demand=demand, datasets_bytes=new.datasets_bytes,
    )
    if found:
        quota_service.refuse(found, demand, owner_id=owner_id)
    job = jobs.add_job(session=session, job=new.job)
    open_record(session=session, job=job, combinations=new.total,
                dataset_rows=new.dataset_rows)
    logger.bind(job_id=str(job.id), user_id=str(owner_id), total=new.total).info("job queued")
    return job_to_public(
        job, dataset_name=new.dataset_name, source_job_name=new.source_job_name
    )


def submit_job(*, session: Session, owner_id: uuid.UUID, body: JobCreate) -> JobPublic:
    """Validate and store a job in one session (scripts and tests; see ``submit``)."""
    return store_job(
        session=session, owner_id=owner_id,
        new=prepare_job(session=session, owner_id=owner_id, body=body),
    )


def submit(*, owner_id: uuid.UUID, body: JobCreate, check_account: bool = False) -> JobPublic:
    """Submit as the API and the UI do: everything is read and checked in a read-only
    session (on SQLite it never takes the write lock), then a short write transaction
    stores the row. ``check_account``: ``owner_id`` comes from a token, whose account is
    looked up first, in the same read (401 when it no longer exists)."""
    with session_scope(readonly=True) as session:
        quotas = None
        if check_account:
            quotas = quota_service.quotas_of_account(session=session, user_id=owner_id)
            if quotas is None:
                raise UnauthorizedError(auth_service.GONE)
        new = prepare_job(session=session, owner_id=owner_id, body=body, quotas=quotas)
    with session_scope() as session:
        return store_job(session=session, owner_id=owner_id, new=new)


def get_status(
    *, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
) -> OptimizationStatusResponse:
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    return status_of(job, session=session)


def find_status(*, owner_id: uuid.UUID, job_id: uuid.UUID) -> OptimizationStatusResponse | None:
    """:func:`get_status` for the polls: one statement reading only the columns a status
    shows (a queued job is read whole, in a session, for its place in the queue); None when
    the owner has no such job."""
    row = jobs.owned_job_status(job_id=job_id, owner_id=owner_id)
    if row is None:
        return None
    if row.status == JobStatus.QUEUED.value:
        with session_scope(readonly=True) as session:
            return get_status(session=session, owner_id=owner_id, job_id=job_id)
    return OptimizationStatusResponse(
        queue=None,
        id=job_id,
        status=row.status,
        summary=summary_of(row.summary),
        stop_reason=row.stop_reason,
        queue_wait_seconds=row.queue_wait_seconds,
        exec_seconds=row.exec_seconds,
        updated_at=row.updated_at,
    )


def cancel_job(
    *, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
) -> OptimizationStatusResponse:
    """Cancel a queued or running job at once (its summary stays as it stands); raise
    ConflictError for a job that already reached a terminal status."""
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id, for_update=True)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    if is_terminal(job.status):
        raise ConflictError(
            f"the job is already {job.status}; only queued or running jobs can be canceled",
            details=[{"field": "status", "problem": job.status}],
        )
    transition(job, JobStatus.CANCELED, reason="canceled by the user")
    job.cancel_requested = True
    session.add(job)
    session.flush()
    observe_terminal(job, session=session)
    logger.bind(job_id=str(job.id), user_id=str(owner_id)).info("job canceled")
    return status_of(job)


def delete_job(*, owner_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """Delete a job with its tasks, results and artifacts; a live job is canceled first
    (the orchestrator then writes nothing more for it). Re-runs of the job keep its id as
    their source (their source name becomes null). Raise NotFoundError when the owner has no
    such job."""
    with session_scope() as session:
        job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id,
                                 for_update=True)
        if job is None:
            raise NotFoundError(f"job {job_id} not found")
        was_live = not is_terminal(job.status)
        if was_live:
            transition(job, JobStatus.CANCELED, reason="deleted by the user")
            job.cancel_requested = True
            session.add(job)
    if was_live:
        observe_terminal(job)
    purge_job(job_id)
    logger.bind(job_id=str(job_id), user_id=str(owner_id)).info("job deleted")

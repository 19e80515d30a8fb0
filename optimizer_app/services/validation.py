"""A job's validation: checking its settings at submit, and reading its results."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from optimizer_app.core.errors import NotFoundError
from optimizer_app.domain.validation import Holdout, WalkForward, check_fits, parse_validation
from optimizer_app.orchestration.loading import JobCannotRun, load_bars
from optimizer_app.persistence import jobs
from optimizer_app.persistence import validation as validation_queries
from optimizer_app.persistence.models import Dataset, OptimizationJob


def check_validation(raw: Any, dataset: Dataset) -> Holdout | WalkForward | None:
    """Validated settings that fit the dataset's bars (raise pydantic's ValidationError or
    ValueError with a message saying what to change)."""
    spec = parse_validation(raw)
    if spec is None:
        return None
    try:
        bars = load_bars(dataset)
    except JobCannotRun as exc:
        raise ValueError(str(exc)) from exc
    check_fits(spec, bars.dates)
    return spec


def _fold_progress(session: Session, job: OptimizationJob) -> dict[str, Any]:
    """A walk-forward job's progress per fold (from the index ranges of its results)."""
    folds = int((job.validation or {}).get("folds") or 0)
    total = int((job.summary or {}).get("total") or 0)
    if job.validation.get("kind") != "walkforward" or not folds or not total:  # type: ignore[union-attr]
        return {}
    size = total // folds
    done = validation_queries.done_by_fold(session=session, job_id=job.id, fold_size=size)
    stops = (job.summary or {}).get("folds") or []
    return {"folds": [{"fold": k + 1, "done": done.get(k, 0), "total": size,
                       "stopped": stops[k].get("stopped") if k < len(stops) else None}
                      for k in range(folds)]}


def get_validation(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
                   ) -> dict[str, Any]:
    """``{jobId, status, settings, jobStatus, ...results}``: ``status`` is "pending" while the
    job runs (and until its results are stored), "done" or "failed" (with ``error``)."""
    answer = find_validation(session=session, owner_id=owner_id, job_id=job_id)
    if answer is None:
        raise NotFoundError(f"job {job_id} has no validation (submit it with 'validation')")
    return answer


def find_validation(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID
                    ) -> dict[str, Any] | None:
    """:func:`get_validation`, or None when the job has no validation (one read of the job;
    NotFoundError when the owner has no such job)."""
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    if not job.validation or not job.validation_state:
        return None
    stored = dict(job.validation_result or {})
    answer: dict[str, Any] = {
        "jobId": str(job.id),
        "kind": job.validation.get("kind"),
        "status": job.validation_state,
        "jobStatus": job.status,
        "settings": job.validation,
    }
    if job.validation_state == "pending":
        answer["progress"] = _fold_progress(session, job)
        return answer
    answer.update(stored)
    answer["kind"] = job.validation.get("kind")
    return answer

"""A job's out-of-sample validation (hold-out or walk-forward) and its parameter stability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from optimizer_app.api.deps import CurrentUser, JobIdPath, ReadSessionDep
from optimizer_app.services import stability, validation

router = APIRouter(prefix="/optimizations", tags=["validation"])


@router.get("/{id}/validation")
def get_validation(user: CurrentUser, job_id: JobIdPath, session: ReadSessionDep
                   ) -> dict[str, Any]:
    """The job's out-of-sample results: `status` is `pending` while the job runs (and until
    they are stored), then `done` (or `failed` with `error`). 404 when the job has no
    validation."""
    return validation.get_validation(session=session, owner_id=user.id, job_id=job_id)


@router.get("/{id}/stability")
def get_stability(user: CurrentUser, job_id: JobIdPath, session: ReadSessionDep
                  ) -> dict[str, Any]:
    """For each Top-N row: the mean and the worst score of its grid neighbours (one step up
    or down in one parameter), and its rank by neighbourhood mean."""
    return stability.get_stability(session=session, owner_id=user.id, job_id=job_id)

"""Usage and quotas: the caller's usage, an estimate before submit, and the admin routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from optimizer_app.api.deps import CurrentUser, ReadSessionDep, SessionDep, uuid_or_404
from optimizer_app.services import queue, usage
from optimizer_app.services.usage_schemas import (
    EstimatePublic,
    QuotasUpdate,
    UsagePublic,
    UsersUsagePublic,
    UserUsagePublic,
)

router = APIRouter(tags=["usage"])


@router.get("/usage", response_model=UsagePublic)
def get_usage(user: CurrentUser, session: ReadSessionDep) -> UsagePublic:
    """The caller's combinations today and this month (UTC; a live job counts what it asked
    for, an ended one what it ran), compute seconds of jobs ended this month, bytes stored,
    and quotas (null: no limit)."""
    return usage.usage_of(session=session, user_id=user.id)


@router.get("/usage/estimate", response_model=EstimatePublic)
def get_estimate(
    user: CurrentUser,
    session: ReadSessionDep,
    strategy: Annotated[str, Query(min_length=1, max_length=100)],
    dataset_id: Annotated[uuid.UUID, Query(alias="datasetId")],
    combinations: Annotated[int, Query(ge=1, le=10**9)],
) -> EstimatePublic:
    """Run time (from this strategy's measured cost on data of this length, or a default
    when nothing was measured: `measured` false), storage, and the quotas it would exceed."""
    return queue.estimate(session=session, owner_id=user.id, strategy=strategy,
                          dataset_id=dataset_id, combinations=combinations)


async def user_id_path(
    id: Annotated[str, Path(description="User id (UUID)", json_schema_extra={"format": "uuid"})],
) -> uuid.UUID:
    return uuid_or_404(id, "user")


@router.get("/admin/usage", response_model=UsersUsagePublic)
def admin_usage(
    user: CurrentUser,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> UsersUsagePublic:
    """Every user's usage and quotas (admins only: 403 otherwise)."""
    return usage.all_usage(session=session, admin=user, limit=limit, offset=offset)


@router.put("/admin/users/{id}/quotas", response_model=UserUsagePublic)
def put_quotas(
    user: CurrentUser,
    session: SessionDep,
    user_id: Annotated[uuid.UUID, Depends(user_id_path)],
    body: QuotasUpdate,
) -> UserUsagePublic:
    """Set a user's quotas (admins only). A null field uses the deployment's default; 0 means
    no limit."""
    return usage.set_quotas(session=session, admin=user, user_id=user_id, body=body)

"""Public models of quotas, usage, the queue and estimates (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from optimizer_app.services.schemas import CamelModel, UtcModel


class QuotaProblem(UtcModel):
    """One quota a submit would exceed (an item of a 429 ``quota_exceeded``'s details)."""

    quota: str
    limit: int
    used: int
    resets_at: datetime | None = None


class QuotasPublic(CamelModel):
    """A user's limits; null: no limit."""

    live_jobs: int | None = None
    combinations_per_day: int | None = None
    stored_bytes: int | None = None
    worker_share: float = 1.0


class QuotasUpdate(CamelModel):
    """Body of PUT /admin/users/{id}/quotas: a null (or absent) field falls back to the
    deployment's default; 0 means no limit."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    live_jobs: int | None = Field(default=None, ge=0, le=10_000)
    combinations_per_day: int | None = Field(default=None, ge=0, le=10**12)
    stored_bytes: int | None = Field(default=None, ge=0, le=10**15)
    worker_share: float | None = Field(default=None, gt=0, le=1)


class UsagePublic(UtcModel):
    """``GET /usage``: combinations charged today and this month (UTC), compute seconds of
    jobs that ended this month, bytes stored now, and the caller's quotas."""

    combinations_today: int
    combinations_this_month: int
    compute_seconds: float
    stored_bytes: int
    quotas: QuotasPublic


class UserUsagePublic(UsagePublic):
    """One user's row in the admin's view: usage, effective quotas, the values an admin set
    (``overrides``; null: the deployment's default) and live jobs."""

    user_id: uuid.UUID
    email: str
    admin: bool
    live_jobs: int
    overrides: QuotasUpdate


class UsersUsagePublic(CamelModel):
    data: list[UserUsagePublic]
    count: int


class EstimatePublic(CamelModel):
    """What a job would take before it is submitted."""

    combinations: int
    seconds: float
    measured: bool  # False: no finished job of this strategy yet, a default rate is assumed
    stored_bytes: int
    exceeds: list[QuotaProblem] = []

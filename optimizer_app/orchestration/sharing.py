"""Share of the workers as a quota: while another user's job has work waiting, one user's
jobs together keep at most ``worker_share`` of the chunk slots busy. The orchestrator's
round-robin between jobs does the rest (a small job starts at once next to a large one)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Protocol

from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.orchestration.jobrun import JobRun
from optimizer_app.persistence.models import UserQuota


class Flight(Protocol):
    job_id: uuid.UUID


def worker_share(*, session: Session, owner_id: uuid.UUID | None) -> float:
    """The owner's share quota: theirs when an admin set one, else the deployment's."""
    quota = session.get(UserQuota, owner_id) if owner_id is not None else None
    if quota is not None and quota.worker_share is not None:
        return float(quota.worker_share)
    return settings.quota_worker_share


def over_share(run: JobRun, runs: Mapping[uuid.UUID, JobRun],
               in_flight: Mapping[str, Flight], slots: int) -> bool:
    """Whether sending ``run`` another chunk would take its owner past their share of the
    ``slots`` while another user's job waits for the workers."""
    if run.worker_share >= 1 or run.owner_id is None:
        return False
    if not any(other.owner_id != run.owner_id and other.has_unsent() for other in runs.values()):
        return False  # nobody else waits: the whole capacity may be used
    allowed = max(1, math.floor(run.worker_share * slots))
    busy = sum(1 for flight in in_flight.values()
               if (held := runs.get(flight.job_id)) is not None and held.owner_id == run.owner_id)
    return busy >= allowed

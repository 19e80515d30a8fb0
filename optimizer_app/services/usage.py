"""Usage (the ledger read back) and the admin's view: every user's usage and per-user quotas.

Admins are the users whose email is listed in ``OPTIMIZER_ADMIN_EMAILS``; for anyone else
the admin routes answer 403."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import ForbiddenError, NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.persistence import jobs
from optimizer_app.persistence import usage as usage_queries
from optimizer_app.persistence.models import User, UserQuota, utcnow
from optimizer_app.services import quotas as quota_service
from optimizer_app.services.usage_schemas import (
    QuotasUpdate,
    UsagePublic,
    UsersUsagePublic,
    UserUsagePublic,
)


def is_admin(user: User) -> bool:
    return user.email.strip().lower() in settings.admin_email_set


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise ForbiddenError("only administrators (OPTIMIZER_ADMIN_EMAILS) may do this")


def _usage(*, session: Session, user_id: uuid.UUID, quota: UserQuota | None,
           now: datetime) -> UsagePublic:
    totals = usage_queries.totals(session=session, owner_id=user_id,
                                  day=quota_service.day_start(now),
                                  month=quota_service.month_start(now))
    return UsagePublic(
        combinations_today=totals.combinations_today,
        combinations_this_month=totals.combinations_this_month,
        compute_seconds=round(totals.compute_seconds, 3),
        stored_bytes=totals.stored_bytes
        + quota_service.dataset_bytes(session=session, owner_id=user_id),
        quotas=quota_service.effective(quota).public(),
    )


def usage_of(*, session: Session, user_id: uuid.UUID, now: datetime | None = None
             ) -> UsagePublic:
    """The caller's usage and quotas (``GET /usage``)."""
    return _usage(session=session, user_id=user_id,
                  quota=usage_queries.get_quota(session=session, user_id=user_id),
                  now=now or datetime.now(UTC))


def _overrides(quota: UserQuota | None) -> QuotasUpdate:
    if quota is None:
        return QuotasUpdate()
    return QuotasUpdate(live_jobs=quota.live_jobs, combinations_per_day=quota.combinations_per_day,
                        stored_bytes=quota.stored_bytes, worker_share=quota.worker_share)


def _user_usage(session: Session, user: User, quota: UserQuota | None, now: datetime
                ) -> UserUsagePublic:
    usage = _usage(session=session, user_id=user.id, quota=quota, now=now)
    return UserUsagePublic(**usage.model_dump(), user_id=user.id, email=user.email,
                           admin=is_admin(user),
                           live_jobs=jobs.count_live_jobs(session=session, owner_id=user.id),
                           overrides=_overrides(quota))


def all_usage(*, session: Session, admin: User, limit: int = 100, offset: int = 0
              ) -> UsersUsagePublic:
    """Every user's usage and quotas, by email (admins only)."""
    require_admin(admin)
    users, count = usage_queries.list_users(session=session, limit=limit, offset=offset)
    quotas = usage_queries.quotas_for(session=session, user_ids=[u.id for u in users])
    now = datetime.now(UTC)
    return UsersUsagePublic(
        data=[_user_usage(session, user, quotas.get(user.id), now) for user in users],
        count=count,
    )


def set_quotas(*, session: Session, admin: User, user_id: uuid.UUID, body: QuotasUpdate
               ) -> UserUsagePublic:
    """Set one user's quotas (admins only); null fields fall back to the deployment's."""
    require_admin(admin)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    quota = usage_queries.put_quota(session=session, quota=UserQuota(
        user_id=user_id, live_jobs=body.live_jobs,
        combinations_per_day=body.combinations_per_day, stored_bytes=body.stored_bytes,
        worker_share=body.worker_share, updated_at=utcnow(),
    ))
    session.flush()
    logger.bind(user_id=str(admin.id), target=str(user_id),
                quotas=body.model_dump(by_alias=True)).info("quotas set")
    return _user_usage(session, user, quota, datetime.now(UTC))


def user(*, session: Session, user_id: uuid.UUID) -> User:
    found = session.get(User, user_id)
    if found is None:
        raise NotFoundError(f"user {user_id} not found")
    return found


def overview(*, session: Session, user_id: uuid.UUID) -> UserUsagePublic:
    """One user's usage with live jobs and whether they are an admin (the usage page)."""
    return _user_usage(session, user(session=session, user_id=user_id),
                       usage_queries.get_quota(session=session, user_id=user_id),
                       datetime.now(UTC))

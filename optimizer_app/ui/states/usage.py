"""State of the usage page: the signed-in user's usage against their quotas and, for admins,
every user's usage with a form to set one user's quotas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.errors import AppError
from optimizer_app.core.logging import logger
from optimizer_app.services.usage_schemas import QuotasPublic, QuotasUpdate, UserUsagePublic
from optimizer_app.ui import calls
from optimizer_app.ui import format as fmt
from optimizer_app.ui.states.auth import UNEXPECTED_ERROR, current_user, readable_error

GIB = 1024**3


@dataclass
class UsageCard:
    label: str
    value: str
    detail: str
    used_percent: int = -1  # -1: no limit, no bar


@dataclass
class UserRow:
    id: str
    email: str
    admin: bool
    today: str
    month: str
    compute: str
    storage: str
    live: str
    limits: str
    custom: bool  # an admin set quotas for this user


def _of(used: int, limit: int | None, show: str) -> tuple[str, int]:
    if limit is None:
        return "no limit", -1
    return f"of {show}", min(100, round(100 * used / limit)) if limit else 100


def compute_text(seconds: float) -> str:
    return fmt.duration(seconds) if seconds else "0 s"


def usage_cards(usage: UserUsagePublic) -> list[UsageCard]:
    q = usage.quotas
    day_detail, day_pct = _of(usage.combinations_today, q.combinations_per_day,
                              f"{fmt.count(q.combinations_per_day)} per day · resets 00:00 UTC")
    bytes_detail, bytes_pct = _of(usage.stored_bytes, q.stored_bytes, fmt.size(q.stored_bytes))
    live_detail, live_pct = _of(usage.live_jobs, q.live_jobs,
                                f"{fmt.count(q.live_jobs)} queued or running")
    return [
        UsageCard("Combinations today", fmt.count(usage.combinations_today), day_detail, day_pct),
        UsageCard("Combinations this month", fmt.count(usage.combinations_this_month),
                  "since the 1st, UTC"),
        UsageCard("Compute time this month",
                  compute_text(usage.compute_seconds),
                  "run time of jobs that ended"),
        UsageCard("Storage", fmt.size(usage.stored_bytes), bytes_detail, bytes_pct),
        UsageCard("Live jobs", fmt.count(usage.live_jobs), live_detail, live_pct),
        UsageCard("Share of the workers", fmt.percent(q.worker_share, 0),
                  "at most, while other users' jobs wait" if q.worker_share < 1
                  else "all of them when nobody else waits"),
    ]


def limits_text(q: QuotasPublic) -> str:
    def limit(value: int | None, text: str) -> str:
        return "no limit" if value is None else text

    return " · ".join([
        f"{limit(q.live_jobs, fmt.count(q.live_jobs))} live",
        f"{limit(q.combinations_per_day, fmt.count(q.combinations_per_day))}/day",
        limit(q.stored_bytes, fmt.size(q.stored_bytes)),
        f"{fmt.percent(q.worker_share, 0)} workers",
    ])


def user_row(usage: UserUsagePublic) -> UserRow:
    q = usage.quotas
    return UserRow(
        id=str(usage.user_id), email=usage.email, admin=usage.admin,
        today=fmt.count(usage.combinations_today), month=fmt.count(usage.combinations_this_month),
        compute=compute_text(usage.compute_seconds), storage=fmt.size(usage.stored_bytes),
        live=fmt.count(usage.live_jobs), limits=limits_text(q),
        custom=any(v is not None for v in usage.overrides.model_dump().values()),
    )


def _blank(value: float | int | None, scale: float = 1) -> str:
    if value is None:
        return ""
    shown = value / scale
    return fmt.plain_number(shown).replace(",", "")


def parse_quota_form(live: str, per_day: str, gib: str, share: str
                     ) -> tuple[QuotasUpdate | None, str]:
    """The admin's quota form as a body (blank: the deployment's default), or an error."""
    values: dict[str, float | None] = {}
    for key, text, label in (("live", live, "Live jobs"), ("day", per_day, "Combinations per day"),
                             ("gib", gib, "Storage"), ("share", share, "Worker share")):
        text = text.strip().replace(",", "").removesuffix("%").strip()
        if not text:
            values[key] = None
            continue
        try:
            values[key] = float(text)
        except ValueError:
            return None, f"{label}: enter a number, or leave it blank for the default"
        if values[key] < 0:  # type: ignore[operator]
            return None, f"{label}: must not be negative"
    share_value = values["share"]
    if share_value is not None and not 0 < share_value <= 100:
        return None, "Worker share: a percentage above 0 and at most 100"
    try:
        body = QuotasUpdate(
            live_jobs=None if values["live"] is None else int(values["live"]),
            combinations_per_day=None if values["day"] is None else int(values["day"]),
            stored_bytes=None if values["gib"] is None else int(values["gib"] * GIB),
            worker_share=None if share_value is None else share_value / 100,
        )
    except ValueError as exc:
        return None, str(exc).splitlines()[0]
    return body, ""


class UsageState(rx.State):
    cards: list[UsageCard] = []
    loading: bool = True
    load_error: str = ""
    is_admin: bool = False
    users: list[UserRow] = []
    # The admin's quota form for one user.
    editing_id: str = ""
    editing_email: str = ""
    live_jobs: str = ""
    per_day: str = ""
    storage_gib: str = ""
    share_percent: str = ""
    form_error: str = ""
    saving: bool = False

    _overrides: dict[str, dict[str, float | int | None]] = {}

    @rx.var(cache=True)
    def has_users(self) -> bool:
        return len(self.users) > 0

    @rx.var(cache=True)
    def editing(self) -> bool:
        return self.editing_id != ""

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        async for event in self._refresh():
            yield event

    async def _refresh(self) -> AsyncIterator[EventSpec | None]:
        self.loading = not self.cards
        self.load_error = ""
        user = await current_user(self)
        if user is None:
            return
        try:
            mine = await asyncio.to_thread(calls.usage, user.id)
            everyone = (await asyncio.to_thread(calls.all_usage, user.id)) if mine.admin else None
        except Exception:
            logger.exception("usage could not be loaded")
            self.load_error = UNEXPECTED_ERROR
            self.loading = False
            return
        self.cards = usage_cards(mine)
        self.is_admin = mine.admin
        self.users = [user_row(u) for u in everyone.data] if everyone else []
        self._overrides = {str(u.user_id): u.overrides.model_dump() for u in everyone.data
                           } if everyone else {}
        self.loading = False
        yield None

    @rx.event
    def edit(self, user_id: str) -> None:
        row = next((u for u in self.users if u.id == user_id), None)
        if row is None:
            return
        current = self._overrides.get(user_id, {})
        self.editing_id, self.editing_email = user_id, row.email
        self.live_jobs = _blank(current.get("live_jobs"))
        self.per_day = _blank(current.get("combinations_per_day"))
        self.storage_gib = _blank(current.get("stored_bytes"), GIB)
        share = current.get("worker_share")
        self.share_percent = "" if share is None else _blank(share * 100)
        self.form_error = ""

    @rx.event
    def close_editor(self, open_: bool = False) -> None:
        if not open_:
            self.editing_id = ""
            self.form_error = ""

    @rx.event
    def set_field(self, key: str, value: str) -> None:
        if key in ("live_jobs", "per_day", "storage_gib", "share_percent"):
            setattr(self, key, value)
            self.form_error = ""

    @rx.event
    async def save(self) -> AsyncIterator[EventSpec | None]:
        body, problem = parse_quota_form(self.live_jobs, self.per_day, self.storage_gib,
                                         self.share_percent)
        if body is None:
            self.form_error = problem
            return
        user = await current_user(self)
        if user is None:
            return
        self.saving = True
        yield None
        try:
            await asyncio.to_thread(calls.set_quotas, user.id, uuid.UUID(self.editing_id), body)
        except AppError as error:
            self.form_error = readable_error(error)
            self.saving = False
            return
        except Exception:
            logger.exception("setting quotas failed unexpectedly")
            self.form_error = UNEXPECTED_ERROR
            self.saving = False
            return
        email = self.editing_email
        self.saving = False
        self.editing_id = ""
        yield rx.toast.success(f"Quotas of {email} saved.")
        async for event in self._refresh():
            yield event

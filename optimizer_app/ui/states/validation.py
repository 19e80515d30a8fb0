"""State of the detail page's validation and parameter-stability cards: loaded with the page,
refreshed while the results are pending (the job runs, or has just ended). Its own state so
that the detail page's polling stays as it is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.config import settings
from optimizer_app.core.errors import NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.ui import calls
from optimizer_app.ui.states.auth import current_user
from optimizer_app.ui.states.job_detail import job_id_from_path
from optimizer_app.ui.validation_view import (
    StabilityRow,
    ValidationView,
    stability_rows,
    validation_view,
)

MIN_POLL_SECONDS = 1.0
LIVE = ("queued", "running")


Fetched = tuple[dict[str, Any] | None, bool, dict[str, Any] | None]


RETRY: Fetched = (None, True, None)  # reading failed: show what is shown, try again


def _fetch(owner: uuid.UUID, job_id: uuid.UUID, *, validated: bool | None = None
           ) -> Fetched | None:
    """The validation answer (not read when ``validated`` is False: a job's validation is set
    when it is submitted, so a job known to have none is only watched until it ends), whether
    the job is live, and (once it ended with a Top-N) its parameter stability; None when the
    job is gone or could not be read."""
    try:
        status = calls.status(owner, job_id)
        answer = calls.validation(owner, job_id) if validated is not False else None
        live = status.status in LIVE
        stability = None if live or not status.summary.top_n else calls.stability(owner, job_id)
    except NotFoundError:
        return None
    except Exception:
        logger.bind(job_id=str(job_id)).exception("validation card could not load; retrying")
        return RETRY
    return answer, live, stability


class ValidationState(rx.State):
    view: ValidationView = ValidationView()
    stability: list[StabilityRow] = []
    stability_rank_by: str = "score"
    stability_loaded: bool = False
    _owner: uuid.UUID | None = None
    _job_id: uuid.UUID | None = None
    _generation: int = 0
    _validated: bool | None = None  # whether the job has a validation (None: not read yet)

    @rx.var(cache=True)
    def has_validation(self) -> bool:
        return self.view.kind != ""

    @rx.var(cache=True)
    def ranked_by_neighbours(self) -> bool:
        return self.stability_rank_by == "neighbourhoodMean"

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self._generation += 1
        generation = self._generation
        self.view = ValidationView()
        self.stability, self.stability_loaded = [], False
        self._validated = None
        user = await current_user(self)
        job_id = job_id_from_path(self.router.url.path)
        if user is None or job_id is None:
            return
        self._owner, self._job_id = user.id, job_id
        pending = await self._refresh()
        yield None
        if pending:
            yield ValidationState.poll(generation)  # type: ignore[misc]  # mypy: PEP 646

    async def _refresh(self) -> bool:
        assert self._owner is not None and self._job_id is not None
        fetched = await asyncio.to_thread(_fetch, self._owner, self._job_id)
        return self._apply(fetched)

    def _apply(self, fetched: Fetched | None) -> bool:
        """Show what was read; whether to keep refreshing (something is still to come)."""
        if fetched is None:
            return False
        if fetched is RETRY:
            return True
        answer, live, stability = fetched
        if self._validated is None:
            self._validated = answer is not None
        self.view = validation_view(answer) if answer else ValidationView()
        if stability is not None:
            self.stability = stability_rows(stability)
            self.stability_rank_by = str(stability.get("rankBy") or "score")
            self.stability_loaded = True
        return live or self.view.status == "pending"

    @rx.event(background=True)
    async def poll(self, generation: int) -> None:
        while True:
            await asyncio.sleep(max(MIN_POLL_SECONDS, settings.poll_interval_ms / 1000))
            async with self:
                if generation != self._generation or (
                    job_id_from_path(self.router.url.path) != self._job_id
                ):
                    return
                owner, job_id, validated = self._owner, self._job_id, self._validated
            assert owner is not None and job_id is not None
            fetched = await asyncio.to_thread(_fetch, owner, job_id, validated=validated)
            async with self:
                if generation != self._generation or not self._apply(fetched):
                    return

"""State of the history page: the signed-in user's jobs, newest first, a page at a time,
refreshed on the configured interval while any job on the page is queued or running."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.config import settings
from optimizer_app.core.errors import AppError, NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.services.history import LiveProgress
from optimizer_app.services.schemas import JobPublic, JobsPublic, JobSummary
from optimizer_app.ui import calls, routes
from optimizer_app.ui import format as fmt
from optimizer_app.ui.states.auth import UNEXPECTED_ERROR, current_user, readable_error
from optimizer_app.ui.vocabulary import METRICS, is_live, show_metric

PAGE_SIZE = 20


@dataclass
class HistoryRow:
    """One job as the history table shows it (display-ready strings)."""

    id: str
    name: str
    href: str
    strategy: str
    dataset: str
    status: str
    progress: str
    progress_value: int
    best_score: str
    metric: str  # the best score's metric, e.g. "Sharpe"
    created_day: str
    created_time: str
    rerun_href: str
    source_name: str = ""
    source_href: str = ""
    source_deleted: bool = False
    validation: str = ""  # "Hold-out" or "Walk-forward" for a validated job


VALIDATION_LABELS = {"holdout": "Hold-out", "walkforward": "Walk-forward"}


def _strategy_label(name: str) -> str:
    try:
        return get_strategy(name).label
    except UnknownStrategyError:
        return name


def _progress(summary: JobSummary, best: float | None, metric: str) -> dict[str, Any]:
    """A row's fields that change while its job runs."""
    done = summary.finished + summary.failed
    return {
        "progress": f"{fmt.count(done)} / {fmt.count(summary.total)}",
        "progress_value": round(100 * fmt.progress_fraction(done, summary.total)),
        "best_score": show_metric(metric, best) if best is not None else fmt.MISSING,
    }


def history_row(job: JobPublic) -> HistoryRow:
    metric = str((job.early_stop_policy or {}).get("metric") or "")
    return HistoryRow(
        id=str(job.id),
        name=job.name,
        href=routes.job_detail(str(job.id)),
        strategy=_strategy_label(job.strategy),
        dataset=job.dataset_name or "",
        status=job.status,
        **_progress(job.summary, job.best_score, metric),
        metric=METRICS[metric].short if metric in METRICS else metric,
        created_day=fmt.day(job.created_at),
        created_time=fmt.clock(job.created_at),
        rerun_href=routes.rerun(str(job.id)),
        source_name=(job.source_job_name or "") if job.source_job_id else "",
        source_href=(routes.job_detail(str(job.source_job_id))
                     if job.source_job_id and job.source_job_name else ""),
        source_deleted=bool(job.source_job_id and not job.source_job_name),
        validation=VALIDATION_LABELS.get(str((job.validation or {}).get("kind")), ""),
    )


def _refresh(owner: uuid.UUID, offset: int, total: int, live: dict[uuid.UUID, str]
             ) -> tuple[JobsPublic | None, dict[uuid.UUID, LiveProgress]]:
    """The page again when something but the live jobs' progress changed (a status, the
    number of jobs), else that progress."""
    count, found = calls.history_progress(owner, list(live))
    if count == total and all(k in found and found[k].status == s for k, s in live.items()):
        return None, found
    return calls.history_page(owner, limit=PAGE_SIZE, offset=offset), {}


class HistoryState(rx.State):
    rows: list[HistoryRow] = []
    total: int = 0
    page: int = 0
    loading: bool = True
    load_error: str = ""

    _owner: uuid.UUID | None = None
    _generation: int = 0

    @rx.var(cache=True)
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.var(cache=True)
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var(cache=True)
    def page_text(self) -> str:
        first = self.page * PAGE_SIZE + 1
        last = min(self.total, first + len(self.rows) - 1)
        noun = "optimization" if self.total == 1 else "optimizations"
        return f"{fmt.count(first)}–{fmt.count(last)} of {fmt.count(self.total)} {noun}"

    @rx.var(cache=True)
    def has_previous(self) -> bool:
        return self.page > 0

    @rx.var(cache=True)
    def has_next(self) -> bool:
        return (self.page + 1) * PAGE_SIZE < self.total

    @rx.var(cache=True)
    def any_live(self) -> bool:
        return any(is_live(row.status) for row in self.rows)

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self.page = 0
        self.rows = []  # never show another session's rows while loading
        async for event in self._open_page():
            yield event

    @rx.event
    async def next_page(self) -> AsyncIterator[EventSpec | None]:
        if self.has_next:
            self.page += 1
            async for event in self._open_page():
                yield event

    @rx.event
    async def previous_page(self) -> AsyncIterator[EventSpec | None]:
        if self.page > 0:
            self.page -= 1
            async for event in self._open_page():
                yield event

    @rx.event
    async def delete_job(self, job_id: str) -> AsyncIterator[EventSpec | None]:
        """Delete one of the listed jobs (after the confirmation), then show the page again."""
        user = await current_user(self)
        if user is None:
            return
        name = next((row.name for row in self.rows if row.id == job_id), "the job")
        try:
            await asyncio.to_thread(calls.delete, user.id, uuid.UUID(job_id))
        except NotFoundError:
            pass  # already gone (deleted from another tab): the refresh shows it
        except AppError as error:
            yield rx.toast.error(readable_error(error))
            return
        except Exception:
            logger.bind(job_id=job_id).exception("delete failed unexpectedly")
            yield rx.toast.error(UNEXPECTED_ERROR)
            return
        yield rx.toast.success(f"Deleted “{name}”.")
        if len(self.rows) == 1 and self.page > 0:
            self.page -= 1
        async for event in self._open_page():
            yield event

    async def _open_page(self) -> AsyncIterator[EventSpec | None]:
        self._generation += 1
        generation = self._generation
        self.loading = not self.rows
        self.load_error = ""
        user = await current_user(self)
        if user is None:
            return
        self._owner = user.id
        try:
            jobs = await asyncio.to_thread(
                calls.history_page, user.id, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE
            )
        except Exception:
            logger.exception("history could not be loaded")
            self.load_error = UNEXPECTED_ERROR
            self.loading = False
            return
        self._show(jobs.data, jobs.count)
        self.loading = False
        yield None
        if self.any_live:
            yield HistoryState.poll(generation)  # type: ignore[misc]  # mypy: PEP 646

    def _show(self, jobs: list[JobPublic], total: int) -> None:
        self.rows = [history_row(job) for job in jobs]
        self.total = total

    @rx.event(background=True)
    async def poll(self, generation: int) -> None:
        """Refresh the page while any of its jobs is live: the live jobs' progress alone
        (one statement) while nothing else changed; the whole page once a job's status
        changed or a job was added or deleted elsewhere."""
        interval = settings.poll_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            async with self:
                if generation != self._generation or not self._on_history():
                    return
                owner, offset, total = self._owner, self.page * PAGE_SIZE, self.total
                live = {uuid.UUID(row.id): row.status for row in self.rows
                        if is_live(row.status)}
            if owner is None:
                return
            try:
                jobs, found = await asyncio.to_thread(_refresh, owner, offset, total, live)
            except Exception:
                logger.exception("refreshing the history failed; retrying")
                continue
            async with self:
                if generation != self._generation or not self._on_history():
                    return
                if jobs is not None:
                    self._show(jobs.data, jobs.count)
                else:
                    self.rows = [
                        dataclasses.replace(row, **_progress(found[key].summary,
                                                             found[key].best_score,
                                                             found[key].metric))
                        if (key := uuid.UUID(row.id)) in found else row
                        for row in self.rows
                    ]
                if not self.any_live:
                    return

    def _on_history(self) -> bool:
        return self.router.url.path.rstrip("/") == routes.HISTORY

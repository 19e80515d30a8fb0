"""State of the detail page: one job's status, progress, Top-N and score chart, refreshed on the
configured interval while the job is live, and its actions (cancel, export).

Polling is a background event started by ``load``. Each load bumps a generation number; a loop
from an older load, or one whose tab has moved to another page, ends at its next tick. Reflex
also cancels it when the tab closes or reloads."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.config import settings
from optimizer_app.core.errors import AppError, ConflictError, NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.services.schemas import (
    JobCreate,
    JobPublic,
    OptimizationStatusResponse,
    TaskPublic,
)
from optimizer_app.ui import calls, failures_view, job_view, queue_view, routes
from optimizer_app.ui import format as fmt
from optimizer_app.ui.combination_view import parse_combination_number
from optimizer_app.ui.states.auth import UNEXPECTED_ERROR, current_user, readable_error
from optimizer_app.ui.vocabulary import (
    chart_unit,
    constraints_text,
    direction_text,
    is_live,
    is_percent,
    metric_label,
)

CHART_REFRESH_SECONDS = 3.0
MAX_RERUN_LINKS = 10
FIRST_FAILURES = 5  # failed combinations the failures panel lists at first
ALL_FAILURES = 100  # ... and after "Show more" (failures.csv of the export has every one)


@dataclass
class Link:
    label: str
    href: str


def job_id_from_path(path: str) -> uuid.UUID | None:
    """The job id of a detail page URL (``/optimizations/<id>``), or None."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return uuid.UUID(last)
    except ValueError:
        return None


def route_job_text(path: str) -> str:
    """The job id segment of a detail page URL, as typed."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _strategy_label(name: str) -> str:
    try:
        return get_strategy(name).label
    except UnknownStrategyError:
        return name


class JobDetailState(rx.State):
    loading: bool = True
    not_found: bool = False
    # The URL's job id this state's data is for: the page shows a skeleton while it is not
    # the one in the address bar (``RouteMatch``), so another job's data never flashes.
    shown_for: str = ""
    load_error: str = ""

    job_key: str = ""  # the job's id as text
    name: str = ""
    strategy: str = ""
    dataset: str = ""
    created: str = ""
    status: str = "queued"
    metric: str = ""
    mode: str = "max"
    top_n_size: int = 10
    total: int = 0
    finished: int = 0
    failed: int = 0
    banner_title: str = ""
    banner_text: str = ""
    timing: job_view.Timing = job_view.Timing()
    top: list[job_view.TopRow] = []
    source: Link = Link("", "")
    reruns: list[Link] = []

    best_curve: list[dict[str, float]] = []
    best_unit: str = ""  # "%" when the curve is in percent, like the table
    best_text: str = ""  # the Top-N table's best score, as the table shows it

    exporting: bool = False
    export_error: str = ""
    canceling: bool = False
    deleting: bool = False
    order_text: str = ""  # "shuffled order, seed 1234" or "index order"
    constraints_text: str = ""  # the job's result constraints in words; empty: none
    constrained_text: str = "0"  # finished combinations that failed them
    source_deleted: bool = False
    action_error: str = ""
    failure_counts: list[failures_view.FailureCount] = []
    failed_rows: list[failures_view.FailedRow] = []
    failed_listed: int = 0  # how many failed combinations the panel asked for
    rerunning_failed: bool = False
    queue_headline: str = ""  # while queued: position and expected start
    queue_reason: str = ""
    worker_share: str = ""  # while running: its share of the workers
    expanded_groups: list[int] = []  # Top-N groups of identical rows opened by the user
    goto_text: str = ""  # the "Go to combination" field as typed
    goto_error: str = ""

    _owner: uuid.UUID | None = None
    _job: JobPublic | None = None
    _generation: int = 0
    _chart_at: float = 0.0

    # --- derived values ------------------------------------------------------------------------

    @rx.var(cache=True)
    def live(self) -> bool:
        return is_live(self.status)

    @rx.var(cache=True)
    def has_top(self) -> bool:
        return len(self.top) > 0

    @rx.var(cache=True)
    def shown_top(self) -> list[job_view.TopRow]:
        """The Top-N rows, with rows identical to the one above hidden until their group is
        opened."""
        return [r for r in self.top if not r.member or r.group in self.expanded_groups]

    @rx.var(cache=True)
    def goto_range(self) -> str:
        return f"0–{self.total - 1:,}" if self.total > 0 else ""

    @rx.var(cache=True)
    def score_unit(self) -> str:
        return chart_unit(self.metric)

    @rx.var(cache=True)
    def has_reruns(self) -> bool:
        return len(self.reruns) > 0

    @rx.var(cache=True)
    def progress_value(self) -> int:
        return round(100 * fmt.progress_fraction(self.finished + self.failed, self.total))

    @rx.var(cache=True)
    def progress_text(self) -> str:
        return f"{fmt.count(self.finished + self.failed)} / {fmt.count(self.total)}"

    @rx.var(cache=True)
    def progress_percent(self) -> str:
        return fmt.percent(fmt.progress_fraction(self.finished + self.failed, self.total), 1)

    @rx.var(cache=True)
    def failed_text(self) -> str:
        return fmt.count(self.failed)

    @rx.var(cache=True)
    def has_failures(self) -> bool:
        return self.failed > 0

    @rx.var(cache=True)
    def can_rerun_failed(self) -> bool:
        return self.failed > 0 and not is_live(self.status)

    @rx.var(cache=True)
    def failed_more(self) -> bool:
        """More failed combinations than the panel lists, and more can be listed."""
        return len(self.failed_rows) < self.failed and self.failed_listed < ALL_FAILURES

    @rx.var(cache=True)
    def failed_shown_text(self) -> str:
        shown = len(self.failed_rows)
        if shown >= self.failed:
            return ""
        return (f"Showing the first {fmt.count(shown)} of {fmt.count(self.failed)}; "
                "the export's failures.csv lists every one.")

    @rx.var(cache=True)
    def sort_label(self) -> str:
        return job_view.sort_label(self.metric, self.mode)

    @rx.var(cache=True)
    def direction(self) -> str:
        return direction_text(self.mode)

    @rx.var(cache=True)
    def metric_name(self) -> str:
        return metric_label(self.metric)

    @rx.var(cache=True)
    def rerun_href(self) -> str:
        return routes.rerun(self.job_key) if self.job_key else routes.NEW

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self._generation += 1
        generation = self._generation
        self._reset()
        self.shown_for = route_job_text(self.router.url.path)
        yield None
        user = await current_user(self)
        job_id = job_id_from_path(self.router.url.path)
        if user is None:
            return
        if job_id is None:
            self._show_not_found()
            return
        self._owner = user.id
        try:
            job = await asyncio.to_thread(calls.job, user.id, job_id)
            reruns = await asyncio.to_thread(
                calls.jobs_named, user.id, job.rerun_ids[:MAX_RERUN_LINKS]
            )
            failed = (await asyncio.to_thread(calls.failed_tasks, user.id, job_id, FIRST_FAILURES)
                      if job.summary.failed else None)
        except NotFoundError:
            self._show_not_found()
            return
        except Exception:
            logger.bind(job_id=str(job_id)).exception("detail page could not load the job")
            self.load_error = UNEXPECTED_ERROR
            self.loading = False
            return
        self._show_job(job)
        if self.live:
            try:
                status, share = await asyncio.to_thread(_live_extras, user.id, job_id)
            except Exception:
                logger.bind(job_id=str(job_id)).exception("queue details could not be loaded")
            else:
                self._show_job(job, status)
                self._show_share(share)
        self.reruns = [Link(name, routes.job_detail(str(i))) for i, name in reruns.items()]
        self._chart_at = time.monotonic()
        self._show_failed(failed.data if failed else [], FIRST_FAILURES)
        self.loading = False
        yield None
        if self.live:
            yield JobDetailState.poll(generation)  # type: ignore[misc]  # mypy: PEP 646

    def _reset(self) -> None:
        self.loading = True
        self.not_found = False
        self.load_error = self.export_error = self.action_error = ""
        self.exporting = self.canceling = self.rerunning_failed = False
        self.failure_counts = []
        self.failed_rows = []
        self.failed_listed = 0
        self.top = []
        self.expanded_groups = []
        self.goto_text = self.goto_error = ""
        self.reruns = []
        self.queue_headline = self.queue_reason = self.worker_share = ""
        self._job = None

    def _show_not_found(self) -> None:
        self.not_found = True
        self.loading = False

    def _show_share(self, share: float | None) -> None:
        self.worker_share = queue_view.share_text(share) if self.status == "running" else ""

    def _show_job(self, job: JobPublic, status: OptimizationStatusResponse | None = None,
                  *, chart: bool = True) -> None:
        shown = queue_view.queue_view(status.queue if status else None, datetime.now(UTC))
        if status is not None or job.status != "queued":
            self.queue_headline, self.queue_reason = shown.headline, shown.reason
        if job.status != "running" and (status is None or status.status != "running"):
            self.worker_share = ""
        if status is not None:
            job = job.model_copy(
                update={
                    "status": status.status,
                    "summary": status.summary,
                    "stop_reason": status.stop_reason,
                    "exec_seconds": status.exec_seconds,
                    "queue_wait_seconds": status.queue_wait_seconds,
                    "updated_at": status.updated_at or job.updated_at,
                }
            )
        self._job = job
        policy = job.early_stop_policy or {}
        self.job_key = str(job.id)
        self.name = job.name
        self.strategy = _strategy_label(job.strategy)
        self.dataset = job.dataset_name or "Unknown dataset"
        self.created = fmt.date_time(job.created_at)
        self.status = job.status
        self.metric = str(policy.get("metric") or "")
        self.mode = str(policy.get("mode") or "max")
        self.top_n_size = int(policy.get("topN") or 10)
        summary = job.summary
        self.total, self.finished, self.failed = summary.total, summary.finished, summary.failed
        self.constraints_text = constraints_text(job.constraints)
        self.order_text = (
            f"shuffled order, seed {job.seed}" if job.grid_order == "shuffled"
            else "index order"
        )
        self.constrained_text = fmt.count(summary.constrained)
        self._put("failure_counts", failures_view.failure_counts(summary.failures))
        self.banner_title, self.banner_text = job_view.banner(job, summary, self.metric, self.mode)
        self._put("timing", job_view.timing(job, summary, datetime.now(UTC)))
        self._put("top", job_view.top_rows(self.job_key, summary, self.metric, self.mode))
        curve = job_view.chart_units(job_view.best_curve(job, self.mode), self.metric)
        # the line is drawn again with the history (every few seconds) or a new best, not on
        # every tick only to carry the best over a few more finished combinations
        drawn = self.best_curve
        if chart or not curve or not drawn or curve[-1]["best"] != drawn[-1]["best"]:
            self._put("best_curve", curve)
        self.best_unit = "%" if is_percent(self.metric) else ""
        self.best_text = self.top[0].score if self.top else ""
        self.source = (
            Link(
                job.source_job_name or "the source optimization",
                routes.job_detail(str(job.source_job_id)),
            )
            if job.source_job_id and job.source_job_name
            else Link("", "")
        )
        self.source_deleted = bool(job.source_job_id and not job.source_job_name)

    def _put(self, name: str, value: Any) -> None:
        """Assign a list or record only when it changed: every assignment is sent to the
        browser, which then renders its table or chart again (once a second while a job
        runs), equal or not."""
        if getattr(self, name) != value:
            setattr(self, name, value)

    def _show_failed(self, tasks: list[TaskPublic], asked: int) -> None:
        self.failed_rows = failures_view.failed_rows(tasks)
        self.failed_listed = asked

    # --- Top-N groups and the go-to field ------------------------------------------------------

    @rx.event
    def toggle_group(self, rank: int) -> None:
        if rank in self.expanded_groups:
            self.expanded_groups = [g for g in self.expanded_groups if g != rank]
        else:
            self.expanded_groups = [*self.expanded_groups, rank]

    @rx.event
    def set_goto_text(self, text: str) -> None:
        self.goto_text = text
        self.goto_error = ""

    @rx.event
    def go_to_combination(self) -> EventSpec | None:
        number, error = parse_combination_number(self.goto_text, self.total)
        self.goto_error = error
        if number is None or not self.job_key:
            return None
        return rx.redirect(routes.combination(self.job_key, number))

    # --- polling -------------------------------------------------------------------------------

    @rx.event(background=True)
    async def poll(self, generation: int) -> None:
        """Refresh on the configured interval until the job ends or the tab moves on."""
        ticks = 0
        try:
            while await self._poll_once(generation):
                ticks += 1
        finally:
            logger.bind(generation=generation, ticks=ticks).debug("detail polling stopped")

    async def _poll_once(self, generation: int) -> bool:
        """One tick; whether to go on."""
        await asyncio.sleep(settings.poll_interval_ms / 1000)
        async with self:
            if not self._still_watching(generation):
                return False
            owner, job, chart_at = self._owner, self._job, self._chart_at
            listed = max(self.failed_listed, FIRST_FAILURES)
        assert owner is not None and job is not None
        try:
            update = await asyncio.to_thread(_fetch_update, owner, job, chart_at, listed)
        except NotFoundError:
            async with self:
                if self._still_watching(generation):
                    self._show_not_found()
            return False
        except Exception:
            logger.bind(job_id=str(job.id)).exception("polling the job failed; retrying")
            return True
        async with self:
            if not self._still_watching(generation):
                return False
            self._show_job(update.job, update.status, chart=update.charts_due)
            if update.share_read:
                self._show_share(update.share)
            if update.charts_due:
                self._chart_at = time.monotonic()
            if update.failed is not None:
                self._show_failed(update.failed, listed)
            return self.live

    def _still_watching(self, generation: int) -> bool:
        """This loop belongs to the latest load, and the tab still shows this job."""
        if generation != self._generation or self._job is None or self.not_found:
            return False
        return job_id_from_path(self.router.url.path) == self._job.id

    # --- actions -------------------------------------------------------------------------------

    @rx.event
    async def delete_job(self) -> AsyncIterator[EventSpec | None]:
        """Delete this job (after the confirmation) and go back to the history."""
        if self.deleting or self._job is None or self._owner is None:
            return
        self.deleting = True
        self.action_error = ""
        yield None
        owner, job_id, name = self._owner, self._job.id, self._job.name
        try:
            await asyncio.to_thread(calls.delete, owner, job_id)
        except NotFoundError:
            pass  # deleted meanwhile (another tab): the history will not list it
        except AppError as error:
            self.action_error = readable_error(error)
            return
        except Exception:
            logger.bind(job_id=str(job_id)).exception("delete failed unexpectedly")
            self.action_error = UNEXPECTED_ERROR
            return
        finally:
            self.deleting = False
        self._generation += 1  # stop polling a job that is gone
        yield rx.toast.success(f"Deleted “{name}”.")
        yield rx.redirect(routes.HISTORY)

    @rx.event
    async def cancel(self) -> AsyncIterator[EventSpec | None]:
        if self.canceling or self._job is None or self._owner is None:
            return
        self.canceling = True
        self.action_error = ""
        yield None
        owner, job_id = self._owner, self._job.id
        try:
            status = await asyncio.to_thread(calls.cancel, owner, job_id)
            job = await asyncio.to_thread(calls.job, owner, job_id)
        except ConflictError:
            self.action_error = "This optimization had already finished; nothing to cancel."
            job = await asyncio.to_thread(calls.job, owner, job_id)
            status = None
        except AppError as error:
            self.action_error = readable_error(error)
            return
        except Exception:
            logger.bind(job_id=str(job_id)).exception("cancel failed unexpectedly")
            self.action_error = UNEXPECTED_ERROR
            return
        finally:
            self.canceling = False
        self._show_job(job, status)
        yield rx.toast.info("Optimization canceled.") if status is not None else None

    @rx.event
    async def show_more_failures(self) -> None:
        if self._job is None or self._owner is None:
            return
        try:
            failed = await asyncio.to_thread(calls.failed_tasks, self._owner, self._job.id,
                                             ALL_FAILURES)
        except AppError as error:
            self.action_error = readable_error(error)
            return
        self._show_failed(failed.data, ALL_FAILURES)

    @rx.event
    async def rerun_failed(self) -> AsyncIterator[EventSpec | None]:
        """A new job over exactly this job's failed combinations; opens it."""
        if self.rerunning_failed or self._job is None or self._owner is None:
            return
        self.rerunning_failed = True
        self.action_error = ""
        yield None
        owner, job_id = self._owner, self._job.id
        try:
            rerun = await asyncio.to_thread(
                calls.submit, owner, JobCreate(source_job_id=job_id, rerun="failed")
            )
        except AppError as error:
            self.action_error = readable_error(error)
            return
        except Exception:
            logger.bind(job_id=str(job_id)).exception("re-run of failed combinations failed")
            self.action_error = UNEXPECTED_ERROR
            return
        finally:
            self.rerunning_failed = False
        yield rx.toast.success(
            f"Re-running {fmt.count(rerun.summary.total)} failed combinations."
        )
        yield rx.redirect(routes.job_detail(str(rerun.id)))

    @rx.event
    async def export(self) -> AsyncIterator[EventSpec | None]:
        if self.exporting or self._job is None or self._owner is None:
            return
        self.exporting = True
        self.export_error = ""
        yield None
        owner, job_id = self._owner, self._job.id
        try:
            bundle = await asyncio.to_thread(calls.export_zip, owner, job_id)
        except AppError as error:
            self.export_error = f"The export failed: {readable_error(error)}"
        except Exception:
            logger.bind(job_id=str(job_id)).exception("export failed unexpectedly")
            self.export_error = f"The export failed. {UNEXPECTED_ERROR}"
        else:
            yield rx.download(
                data=bundle.data, filename=bundle.filename, mime_type="application/zip"
            )
        finally:
            self.exporting = False
        if self.export_error:
            yield rx.toast.error(self.export_error)


def _live_extras(owner: uuid.UUID, job_id: uuid.UUID
                 ) -> tuple[OptimizationStatusResponse, float | None]:
    """The status (with the queue while queued) and the share of the workers (running)."""
    status = calls.status(owner, job_id)
    share = calls.running_share(owner) if status.status == "running" else None
    return status, share


@dataclass(frozen=True)
class _Update:
    """One polling tick's reads (see :func:`_fetch_update`)."""

    job: JobPublic
    status: OptimizationStatusResponse
    charts_due: bool
    failed: list[TaskPublic] | None  # None: not read (no more failed since the last tick)
    share_read: bool  # whether ``share`` was read this tick
    share: float | None = None


def _fetch_update(owner: uuid.UUID, job: JobPublic, chart_at: float, failed_listed: int
                  ) -> _Update:
    """One polling tick's reads: the status (one statement); the whole job again when its
    status changed, its first results arrived (timestamps) or the best-score chart is due
    (every few seconds and at the end: the best-score history comes with the job); the failed
    combinations listed when more failed; a running job's share of the workers at the same
    moments as the whole job (it changes only when other jobs start or end). Every open
    detail page makes these reads once a second, so the usual tick is the status alone. The
    score heatmap refreshes itself (``HeatmapState``)."""
    status = calls.status(owner, job.id)
    failed_before = job.summary.failed
    started = job.started_at is None and status.queue_wait_seconds is not None
    charts_due = time.monotonic() - chart_at >= CHART_REFRESH_SECONDS or not is_live(status.status)
    reread = status.status != job.status or started or charts_due
    if reread:
        job = calls.job(owner, job.id)
    failed = None
    if status.summary.failed != failed_before or (
        status.summary.failed and charts_due and not is_live(status.status)
    ):
        failed = calls.failed_tasks(owner, job.id, failed_listed).data
    running = status.status == "running"
    share = calls.running_share(owner) if running and reread else None
    return _Update(job, status, charts_due, failed, share_read=reread, share=share)

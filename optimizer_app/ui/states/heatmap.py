"""State of the detail page's score heatmap: the best score at each pair of values of two
chosen parameters over every finished combination, aggregated on the server
(``services.heatmap``), refreshed while the job runs.

Its own state beside ``JobDetailState``: a large job's heatmap holds tens of thousands of
cells, and an axis switch or a refresh should send only those. Polling follows the detail
page's pattern (a generation number; a loop whose tab moved on ends at its next tick). A
refresh waits at least ``REFRESH_SECONDS`` and at least ``REFRESH_FACTOR`` times the last
read, so a million-row job is not re-aggregated back to back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import orjson
import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.errors import NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.core.memo import SameSource
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.services.heatmap import Heatmap
from optimizer_app.services.schemas import JobPublic, JobSummary
from optimizer_app.ui import calls, heatmap_view
from optimizer_app.ui.heatmap_view import AxisChoice
from optimizer_app.ui.states.auth import current_user
from optimizer_app.ui.states.job_detail import job_id_from_path, route_job_text
from optimizer_app.ui.vocabulary import is_live

REFRESH_SECONDS = 3.0
MAX_AXIS_VALUES = 160  # columns (rows) drawn per axis; denser axes group their values
REFRESH_FACTOR = 5.0
COMBINATION_PATH = "/optimizations/{job}/combinations/{index}"


def combination_href(job_id: str, index: int) -> str:
    """The page of one combination of a job."""
    return COMBINATION_PATH.format(job=job_id, index=int(index))


def _labels(job: JobPublic) -> dict[str, str]:
    try:
        return {p.name: p.label for p in get_strategy(job.strategy).params}
    except UnknownStrategyError:
        return {name: name for name in job.param_space}


def _read(owner: uuid.UUID, job_id: uuid.UUID, x: str | None, y: str | None,
          labels: dict[str, str], reuse_rows: bool = False) -> tuple[Heatmap, str, float]:
    """The heatmap and its chart data as JSON text (formatting tens of thousands of cells
    stays off the event loop), and how long the read took. One text rather than nested
    lists: the browser replaces it in one step instead of merging every cell into its state."""
    started = time.monotonic()
    heatmap = calls.heatmap(owner, job_id, x, y, reuse_rows=reuse_rows,
                            max_values=MAX_AXIS_VALUES)
    # every page of the job between two reads of its cells gets the same heatmap: one text
    text = _TEXTS.get((job_id, heatmap.x, heatmap.y, tuple(sorted(labels.items()))), heatmap,
                      lambda: orjson.dumps(heatmap_view.chart_data(heatmap, labels)).decode())
    return heatmap, text, time.monotonic() - started


# chart texts, per heatmap (up to ~2 MB each; only pages showing the same job and axes share)
_TEXTS: SameSource[str] = SameSource(8)


class HeatmapState(rx.State):
    loading: bool = True
    error: str = ""
    shown_for: str = ""  # the URL's job id the chart is for (see JobDetailState.shown_for)
    axes: list[AxisChoice] = []
    x_param: str = ""
    y_param: str = ""
    data: str = ""  # the chart's data as JSON text (see assets/score_heatmap.jsx)
    kind: str = ""  # "heatmap" | "line"
    cells: int = 0
    worst_text: str = ""
    best_text: str = ""
    caption: str = ""
    live: bool = False

    _owner: uuid.UUID | None = None
    _job_id: uuid.UUID | None = None
    _labels: dict[str, str] = {}
    _generation: int = 0
    _read_seconds: float = 0.0
    _passed: int = 0  # finished combinations passing the constraints, at the last refresh

    @rx.var(cache=True)
    def is_line(self) -> bool:
        return self.kind == "line"

    @rx.var(cache=True)
    def has_choice(self) -> bool:
        return len(self.axes) > 1

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self._generation += 1
        generation = self._generation
        self.loading, self.error, self.data, self.cells = True, "", "", 0
        self.axes, self.x_param, self.y_param = [], "", ""
        self._job_id = None
        self.shown_for = route_job_text(self.router.url.path)
        yield None
        user = await current_user(self)
        job_id = job_id_from_path(self.router.url.path)
        if user is None or job_id is None:
            return
        self._owner, self._job_id = user.id, job_id
        try:
            job = await asyncio.to_thread(calls.job, user.id, job_id)
            self._labels = _labels(job)
            heatmap, data, seconds = await asyncio.to_thread(_read, user.id, job_id, None, None,
                                                             self._labels)
        except NotFoundError:
            self.loading = False
            return  # the detail page says so
        except Exception:
            logger.bind(job_id=str(job_id)).exception("the heatmap could not load")
            self.error = "The chart could not be loaded. Reload the page to try again."
            self.loading = False
            return
        self.axes = [AxisChoice(name, self._labels.get(name, name)) for name in heatmap.axes]
        self.live = is_live(job.status)
        self._show(heatmap, data, seconds, job.summary)
        if self.live:
            yield HeatmapState.poll(generation)  # type: ignore[misc]

    def _show(self, heatmap: Heatmap, data: str, seconds: float,
              summary: JobSummary | None = None) -> None:
        self.x_param, self.y_param = heatmap.x, heatmap.y or ""
        if data != self.data:  # an unchanged chart is not sent to the browser again
            self.data = data
        self.kind = "line" if heatmap.y is None else "heatmap"
        self.cells = len(heatmap.cells)
        self.worst_text, self.best_text = heatmap_view.legend(heatmap)
        if summary is not None:
            self._passed = max(0, summary.finished - summary.constrained)
        self.caption = heatmap_view.caption(heatmap, self._passed, self._labels)
        self._read_seconds = seconds
        self.loading = False

    @rx.event
    async def set_axes(self, x: str, y: str) -> AsyncIterator[EventSpec | None]:
        """Show the chart over ``x`` and ``y`` ("" for a line over ``x``)."""
        async for update in self._switch(x, y):
            yield update

    async def _switch(self, x: str, y: str) -> AsyncIterator[None]:
        if self._owner is None or self._job_id is None:
            return
        self.x_param, self.y_param = x, y
        yield None
        try:
            heatmap, data, seconds = await asyncio.to_thread(
                _read, self._owner, self._job_id, x, y, self._labels, True
            )
        except Exception:
            logger.bind(job_id=str(self._job_id)).exception("the heatmap axes failed")
            self.error = "The chart could not be redrawn. Reload the page to try again."
            return
        if (self.x_param, self.y_param) == (x, y):
            self.error = ""
            self._show(heatmap, data, seconds)

    @rx.event
    async def set_x_param(self, name: str) -> AsyncIterator[None]:
        """A new X axis; the Y axis takes the old X when they would be the same."""
        y = self.x_param if name == self.y_param else self.y_param
        async for update in self._switch(name, y):
            yield update

    @rx.event
    async def set_y_param(self, name: str) -> AsyncIterator[None]:
        """A new Y axis; the X axis takes the old Y when they would be the same."""
        x = self.y_param if name == self.x_param else self.x_param
        async for update in self._switch(x, name):
            yield update

    @rx.event
    def open_combination(self, index: int) -> EventSpec | None:
        if self._job_id is None:
            return None
        return rx.redirect(combination_href(str(self._job_id), index))

    @rx.event(background=True)
    async def poll(self, generation: int) -> None:
        """Refresh while the job runs, and once more when it ends."""
        while True:
            async with self:
                wait = max(REFRESH_SECONDS, REFRESH_FACTOR * self._read_seconds)
            await asyncio.sleep(wait)
            async with self:
                if not self._watching(generation):
                    return
                owner, job_id, x, y = self._owner, self._job_id, self.x_param, self.y_param
                labels = self._labels
            assert owner is not None and job_id is not None
            try:
                status = await asyncio.to_thread(calls.status, owner, job_id)
                heatmap, data, seconds = await asyncio.to_thread(_read, owner, job_id, x,
                                                                 y, labels)
            except NotFoundError:
                return
            except Exception:
                logger.bind(job_id=str(job_id)).exception("refreshing the heatmap failed")
                continue
            async with self:
                if not self._watching(generation):
                    return
                if (self.x_param, self.y_param) == (x, y):
                    self._show(heatmap, data, seconds, status.summary)
                self.live = is_live(status.status)
                if not self.live:
                    return

    def _watching(self, generation: int) -> bool:
        return (generation == self._generation and self._job_id is not None
                and job_id_from_path(self.router.url.path) == self._job_id)


"""State of a combination's page: its parameters, metrics, score and rank, equity against
buy-and-hold, drawdown, monthly returns and trades (paginated), with CSV downloads.

The services run in a worker thread (``asyncio.to_thread``): a combination outside the stored
results is backtested on demand, which must not hold up the event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.errors import AppError, NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.domain.strategies import UnknownStrategyError, get_strategy
from optimizer_app.services.schemas import (
    CombinationPublic,
    EquityPublic,
    JobPublic,
    TradesPublic,
)
from optimizer_app.ui import calls, routes
from optimizer_app.ui import combination_view as view
from optimizer_app.ui.states.auth import UNEXPECTED_ERROR, current_user, readable_error
from optimizer_app.ui.vocabulary import (
    direction_text,
    is_live,
    metric_label,
    places_to_tell_apart,
)

TRADES_PAGE = 20


@dataclass(frozen=True)
class Address:
    job_id: uuid.UUID
    index: int


def address_from_path(path: str) -> Address | None:
    """Job and combination of ``/optimizations/<id>/combinations/<index>``, or None."""
    parts = path.strip("/").split("/")
    if len(parts) != 4 or parts[0] != "optimizations" or parts[2] != "combinations":
        return None
    try:
        job_id = uuid.UUID(parts[1])
    except ValueError:
        return None
    raw = parts[3]
    if not raw.isdigit() or len(raw) > view.MAX_NUMBER_TEXT:
        return None
    return Address(job_id, int(raw))


def job_id_in_path(path: str) -> uuid.UUID | None:
    """The job id of any ``/optimizations/<id>/…`` address, or None."""
    parts = path.strip("/").split("/")
    try:
        return uuid.UUID(parts[1]) if len(parts) > 1 and parts[0] == "optimizations" else None
    except ValueError:
        return None


def _job_or_none(owner: uuid.UUID, job_id: uuid.UUID) -> JobPublic | None:
    try:
        return calls.job(owner, job_id)
    except NotFoundError:
        return None


@dataclass(frozen=True)
class Loaded:
    job: JobPublic
    combination: CombinationPublic
    equity: EquityPublic | None
    trades: TradesPublic | None


def _load(owner: uuid.UUID, address: Address) -> Loaded:
    job = calls.job(owner, address.job_id)
    combination = calls.combination(owner, address.job_id, address.index)
    if combination.status == "failed":
        return Loaded(job, combination, None, None)
    equity = calls.combination_equity(owner, address.job_id, address.index)
    trades = calls.combination_trades(owner, address.job_id, address.index, limit=TRADES_PAGE)
    return Loaded(job, combination, equity, trades)


def _strategy_label(name: str) -> str:
    try:
        return get_strategy(name).label
    except UnknownStrategyError:
        return name


def _labels(strategy: str) -> dict[str, str]:
    try:
        return {p.name: p.label for p in get_strategy(strategy).params}
    except UnknownStrategyError:
        return {}


class CombinationState(rx.State):
    loading: bool = True
    shown_path: str = ""  # the page the data below belongs to
    not_found: bool = False
    not_found_title: str = ""
    not_found_text: str = ""
    load_error: str = ""

    job_key: str = ""
    job_name: str = ""
    strategy: str = ""
    dataset: str = ""
    number: int = 0  # the combination's index in the grid
    total_text: str = ""
    params: list[view.Pair] = []
    metrics: list[view.Pair] = []
    status_text: str = ""
    failed: bool = False
    error_text: str = ""
    metric_name: str = ""
    direction: str = ""
    score: str = ""
    rank: str = ""
    ranked: bool = False
    constraint: str = ""
    passes: str = ""  # "yes", "no" or "" (no constraints, or not checked)

    equity: list[dict[str, Any]] = []  # points of both charts
    ticks: list[str] = []  # x-axis ticks: one date per year
    max_drawdown: str = ""
    final_equity: str = ""
    monthly: list[view.YearRow] = []

    trades: list[view.TradeRow] = []
    trade_count: int = 0
    trade_offset: int = 0
    trades_loading: bool = False
    trades_error: str = ""

    downloading: str = ""  # "equity" or "trades" while a CSV is prepared
    action_error: str = ""

    _owner: uuid.UUID | None = None
    _address: Address | None = None
    _generation: int = 0

    # --- derived values ------------------------------------------------------------------------

    @rx.var(cache=True)
    def title(self) -> str:
        return f"Combination #{self.number:,}"

    @rx.var(cache=True)
    def job_href(self) -> str:
        return routes.job_detail(self.job_key) if self.job_key else routes.HISTORY

    @rx.var(cache=True)
    def rerun_href(self) -> str:
        return routes.rerun(self.job_key, self.number) if self.job_key else routes.NEW

    @rx.var(cache=True)
    def trades_range(self) -> str:
        return view.trades_range_text(self.trade_offset, len(self.trades), self.trade_count)

    @rx.var(cache=True)
    def has_previous_trades(self) -> bool:
        return self.trade_offset > 0

    @rx.var(cache=True)
    def has_next_trades(self) -> bool:
        return self.trade_offset + len(self.trades) < self.trade_count

    @rx.var(cache=True)
    def has_monthly(self) -> bool:
        return len(self.monthly) > 0

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self._generation += 1
        generation = self._generation
        self._reset()
        path = self.router.url.path
        user = await current_user(self)
        if user is None:
            return
        address = address_from_path(path)
        if address is None:
            # A job of this user with a malformed combination number still names the job.
            job_id = job_id_in_path(path)
            job = await asyncio.to_thread(_job_or_none, user.id, job_id) if job_id else None
            if generation == self._generation:
                self._show_not_found(path, job_found=job)
            return
        self._owner, self._address = user.id, address
        try:
            loaded = await asyncio.to_thread(_load, user.id, address)
        except NotFoundError:
            job_found = await asyncio.to_thread(_job_or_none, user.id, address.job_id)
            if generation == self._generation:
                self._show_not_found(path, job_found=job_found)
            return
        except Exception:
            logger.bind(job_id=str(address.job_id), index=address.index).exception(
                "combination page could not load"
            )
            self.load_error = UNEXPECTED_ERROR
            self.loading = False
            self.shown_path = path
            return
        if generation != self._generation:
            return
        self._show(loaded)
        self.shown_path = path
        self.loading = False
        yield None

    def _reset(self) -> None:
        self.loading = True
        self.not_found = False
        self.load_error = self.action_error = self.trades_error = ""
        self.downloading = ""
        self.trades_loading = False
        self.equity, self.monthly, self.trades = [], [], []
        self.ticks = []
        self.params, self.metrics = [], []
        self.trade_count = self.trade_offset = 0

    def _show_not_found(self, path: str, *, job_found: JobPublic | None) -> None:
        self.not_found = True
        self.loading = False
        self.shown_path = path
        if isinstance(job_found, JobPublic):
            total = job_found.summary.total
            self.job_key, self.job_name = str(job_found.id), job_found.name
            self.not_found_title = "Combination not found"
            shown = path.rstrip("/").rsplit("/", 1)[-1]
            self.not_found_text = (
                f"“{job_found.name}” has {total:,} combinations, numbered 0 to {total - 1:,}; "
                f"{shown} is not one of them."
            )
        else:
            self.job_key, self.job_name = "", ""
            self.not_found_title = "Combination not found"
            self.not_found_text = (
                "There is no optimization at this address in your account. "
                "It may belong to someone else, or the link may be incomplete."
            )

    def _show(self, loaded: Loaded) -> None:
        job, combination = loaded.job, loaded.combination
        policy = job.early_stop_policy or {}
        metric = str(policy.get("metric") or "")
        top_n = int(policy.get("topN") or 10)
        self.job_key, self.job_name = str(job.id), job.name
        self.strategy = _strategy_label(job.strategy)
        self.dataset = job.dataset_name or "Unknown dataset"
        self.number = combination.index
        self.total_text = f"{job.summary.total:,}"
        self.params = view.param_pairs(combination.params, _labels(job.strategy))
        self.status_text = view.status_text(combination, job_live=is_live(job.status))
        self.failed = combination.status == "failed"
        self.error_text = combination.error or ""
        self.metric_name = metric_label(metric)
        self.direction = direction_text(str(policy.get("mode") or "max"))
        places = places_to_tell_apart(
            metric, [e.score for e in job.summary.top_n] + [combination.score]
        )
        self.score = view.score_text(combination, metric, places)
        self.metrics = view.metric_pairs(combination.metrics, metric, places)
        self.rank = view.rank_text(combination, top_n)
        self.ranked = combination.rank is not None
        self.constraint = view.constraint_text(combination, job.constraints)
        self.passes = (
            "" if not job.constraints or combination.passes_constraints is None
            else ("yes" if combination.passes_constraints else "no")
        )
        if loaded.equity is not None:
            self.equity = view.chart_points(loaded.equity)
            self.ticks = view.year_ticks(self.equity)
            self.max_drawdown = view.max_drawdown_text(loaded.equity)
            self.monthly = view.monthly_rows(loaded.equity)
        if loaded.trades is not None:
            self._show_trades(loaded.trades, 0)

    def _show_trades(self, page: TradesPublic, offset: int) -> None:
        self.trades = view.trade_rows(page.data, offset)
        self.trade_count = page.count
        self.trade_offset = offset

    # --- trades pages --------------------------------------------------------------------------

    @rx.event
    async def next_trades(self) -> AsyncIterator[EventSpec | None]:
        async for event in self._trades_at(self.trade_offset + TRADES_PAGE):
            yield event

    @rx.event
    async def previous_trades(self) -> AsyncIterator[EventSpec | None]:
        async for event in self._trades_at(max(0, self.trade_offset - TRADES_PAGE)):
            yield event

    async def _trades_at(self, offset: int) -> AsyncIterator[EventSpec | None]:
        if self.trades_loading or self._owner is None or self._address is None:
            return
        if offset >= self.trade_count and offset > 0:
            return
        self.trades_loading = True
        self.trades_error = ""
        yield None
        owner, address = self._owner, self._address
        try:
            page = await asyncio.to_thread(
                calls.combination_trades, owner, address.job_id, address.index,
                limit=TRADES_PAGE, offset=offset,
            )
        except AppError as error:
            self.trades_error = f"The trades could not be loaded: {readable_error(error)}"
        except Exception:
            logger.bind(job_id=str(address.job_id)).exception("trades page failed")
            self.trades_error = f"The trades could not be loaded. {UNEXPECTED_ERROR}"
        else:
            self._show_trades(page, offset)
        finally:
            self.trades_loading = False

    # --- downloads -----------------------------------------------------------------------------

    @rx.event
    async def download_equity(self) -> AsyncIterator[EventSpec | None]:
        """The equity curve as CSV (the REST API's ``…/equity?format=csv``)."""
        async for event in self._download("equity"):
            yield event

    @rx.event
    async def download_trades(self) -> AsyncIterator[EventSpec | None]:
        """Every trade as CSV (the REST API's ``…/trades?format=csv``)."""
        async for event in self._download("trades"):
            yield event

    async def _download(self, what: str) -> AsyncIterator[EventSpec | None]:
        if self.downloading:
            return
        if self._owner is None or self._address is None:
            return
        self.downloading = what
        self.action_error = ""
        yield None
        owner, address = self._owner, self._address
        try:
            file = await asyncio.to_thread(
                calls.combination_csv, owner, address.job_id, address.index, what
            )
        except AppError as error:
            self.action_error = f"The download failed: {readable_error(error)}"
        except Exception:
            logger.bind(job_id=str(address.job_id)).exception("CSV download failed")
            self.action_error = f"The download failed. {UNEXPECTED_ERROR}"
        else:
            yield rx.download(data=file.data, filename=file.filename, mime_type="text/csv")
        finally:
            self.downloading = ""

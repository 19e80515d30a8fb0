"""State of the new-optimization page: the catalog (strategies, datasets), the form as typed,
its live checks (combination count, field errors), dataset upload, submit, and the pre-fill
of a re-run from a source job."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from optimizer_app.core.config import settings
from optimizer_app.core.errors import AppError, NotFoundError, ValidationError
from optimizer_app.core.logging import logger
from optimizer_app.domain.grid import build_grid
from optimizer_app.services.schemas import JobCreate, JobPublic, StrategyParamPublic
from optimizer_app.ui import calls, routes
from optimizer_app.ui import estimate as estimates
from optimizer_app.ui import format as fmt
from optimizer_app.ui import job_form as form
from optimizer_app.ui import rerun_form as rerun
from optimizer_app.ui.states.auth import UNEXPECTED_ERROR, current_user, readable_error
from optimizer_app.ui.validation_form import (
    ValidationInputs,
    folds_text,
    inputs_from_job,
    validation_body,
)
from optimizer_app.ui.vocabulary import default_mode, direction_text, metric_label

UPLOAD_ID = "dataset-upload"
MAX_LISTED_ROWS = 5


@dataclass
class Choice:
    value: str
    label: str
    hint: str = ""
    short: str = ""  # a strategy's label, a dataset's symbol: for the default job name
    rows: int = 0  # a dataset's bars (run-time estimates)


def _dataset_choice(dataset: Any) -> Choice:
    kind = "bundled" if dataset.bundled else "uploaded"
    return Choice(
        value=str(dataset.id),
        label=dataset.name,
        short=dataset.symbol,
        rows=int(dataset.rows),
        hint=f"{dataset.symbol} · {fmt.count(dataset.rows)} daily bars "
        f"({dataset.first_date:%d %b %Y} – {dataset.last_date:%d %b %Y}) · {kind}",
    )


def _upload_problems(error: AppError) -> list[str]:
    details = error.details if isinstance(error.details, list) else []
    rows = [d for d in details if isinstance(d, dict) and "row" in d]
    return [f"Row {d['row']}: {d.get('problem', '')}" for d in rows[:MAX_LISTED_ROWS]]


def _upload_message(error: AppError) -> str:
    message = error.message.strip()
    return message[:1].upper() + message[1:]


@dataclass
class ConstraintInput:
    """One result-constraint row of the form, as typed."""

    metric: str = "trades"
    op: str = ">="
    value: str = "1"
    error: str = ""


PRESET_CONSTRAINTS = [ConstraintInput("trades", ">=", "1")]  # "at least 1 trade"
MAX_CONSTRAINT_ROWS = 10


def constraint_inputs(raw: list[dict[str, Any]]) -> list[ConstraintInput]:
    return [ConstraintInput(str(c.get("metric")), str(c.get("op")), form.as_text(c.get("value")))
            for c in raw]


def checked_constraints(rows: list[ConstraintInput]
                        ) -> tuple[list[ConstraintInput], list[dict[str, Any]] | None]:
    """The rows with their errors, and the constraints to send (None when one is wrong)."""
    checked, body = [], []
    for row in rows:
        text = row.value.strip().replace(",", "")
        try:
            value = float(text)
            error = "" if math.isfinite(value) else "Enter a number"
        except ValueError:
            value, error = 0.0, "Enter a number" if text else "Enter a value"
        checked.append(replace(row, error=error))
        body.append({"metric": row.metric, "op": row.op, "value": value})
    return checked, None if any(r.error for r in checked) else body


RESTORE_WINDOW_SECONDS = 3.0
# The form's fields as submitted (restored after the browser's Back button).
DRAFT_FIELDS = ("strategy", "dataset_id", "params", "result_constraints", "inputs",
                "_grid_order", "_seed", "source_id", "source_name", "source_combination")


class NewOptimizationState(rx.State):
    strategies: list[Choice] = []
    datasets: list[Choice] = []
    strategy: str = ""
    dataset_id: str = ""
    params: list[form.ParamInput] = []
    result_constraints: list[ConstraintInput] = list(PRESET_CONSTRAINTS)
    _grid_order: str = "shuffled"  # a re-run keeps its source's order and seed
    _seed: int | None = None
    inputs: form.FormValues = form.FormValues()
    checks: ValidationInputs = ValidationInputs()  # out-of-sample validation, rank by
    check_problems: dict[str, str] = {}  # validation fields that are wrong
    loading: bool = True
    notice: str = ""  # e.g. a source job that could not be opened

    source_id: str = ""
    source_name: str = ""
    source_combination: str = ""

    submitting: bool = False
    submit_error: str = ""
    server_errors: dict[str, str] = {}
    server_param_errors: dict[str, str] = {}

    uploading: bool = False
    upload_error: str = ""
    upload_problems: list[str] = []
    upload_notice: str = ""
    # The dataset just uploaded, named from its file until the user names it (and its symbol)
    uploaded_id: str = ""
    upload_name: str = ""
    upload_symbol: str = ""
    upload_name_error: str = ""

    # What was submitted last from this tab, shown again when the user comes back with the
    # browser's Back button (see ``restore_draft``).
    _draft: dict[str, Any] = {}
    _restore_asked: float = 0.0  # when Back last asked for it (monotonic seconds)

    _specs: dict[str, list[StrategyParamPublic]] = {}
    _costs: dict[str, float | None] = {}  # measured seconds per combination per bar
    _headroom: estimates.Headroom = estimates.Headroom()
    _constraints: dict[str, str] = {}
    _descriptions: dict[str, str] = {}

    # --- derived values ------------------------------------------------------------------------

    @rx.var(cache=True)
    def param_fields(self) -> list[form.ParamInput]:
        check = form.check_grid(self.strategy, self.params, settings.grid_cap)
        shown = form.with_errors(self.params, check)
        return [
            replace(p, error=p.error or self.server_param_errors.get(p.name, "")) for p in shown
        ]

    @rx.var(cache=True)
    def combinations(self) -> str:
        check = form.check_grid(self.strategy, self.params, settings.grid_cap)
        return form.combinations_text(check, settings.grid_cap)

    @rx.var(cache=True)
    def run_time(self) -> str:
        total = form.check_grid(self.strategy, self.params, settings.grid_cap).total
        rows = next((c.rows for c in self.datasets if c.value == self.dataset_id), 0)
        return estimates.run_time_text(total, rows, self._costs.get(self.strategy))

    @rx.var(cache=True)
    def storage(self) -> str:
        return estimates.storage_text(
            form.check_grid(self.strategy, self.params, settings.grid_cap).total)

    @rx.var(cache=True)
    def quota_warnings(self) -> list[str]:
        total = form.check_grid(self.strategy, self.params, settings.grid_cap).total
        return estimates.quota_warnings(total, self._headroom)

    @rx.var(cache=True)
    def grid_message(self) -> str:
        check = form.check_grid(self.strategy, self.params, settings.grid_cap)
        return check.message or self.server_errors.get("grid", "")

    @rx.var(cache=True)
    def grid_ok(self) -> bool:
        return form.check_grid(self.strategy, self.params, settings.grid_cap).total is not None

    @rx.var(cache=True)
    def folds_text(self) -> str:
        """How many combinations a walk-forward job runs (every fold runs the whole grid)."""
        total = form.check_grid(self.strategy, self.params, settings.grid_cap).total
        return folds_text(self.checks, total)

    @rx.var(cache=True)
    def check_errors(self) -> dict[str, str]:
        """Every validation field's error ("" when fine)."""
        return {key: self.check_problems.get(key, "")
                for key in ValidationInputs.__dataclass_fields__}

    @rx.var(cache=True)
    def errors(self) -> dict[str, str]:
        _, _, local = form.policy_and_options(self.inputs)
        shown = {key: "" for key in form.FIELD_KEYS}
        shown.update(self.server_errors)
        shown.update(local)
        if not self.strategy:
            shown["strategy"] = shown["strategy"] or "Choose a strategy."
        if not self.dataset_id:
            shown["dataset"] = shown["dataset"] or "Choose a dataset or upload one."
        return shown

    @rx.var(cache=True)
    def has_upload_problems(self) -> bool:
        return len(self.upload_problems) > 0

    @rx.var(cache=True)
    def strategy_description(self) -> str:
        return self._descriptions.get(self.strategy, "")

    @rx.var(cache=True)
    def constraint(self) -> str:
        text = self._constraints.get(self.strategy, "")
        return f"Only combinations with {text} are run." if text else ""

    @rx.var(cache=True)
    def dataset_hint(self) -> str:
        return next((c.hint for c in self.datasets if c.value == self.dataset_id), "")

    @rx.var(cache=True)
    def default_name(self) -> str:
        """The name a job gets when the name field is left empty."""
        strategy = next((c.short for c in self.strategies if c.value == self.strategy), "")
        symbol = next((c.short for c in self.datasets if c.value == self.dataset_id), "")
        return f"{strategy} on {symbol}" if strategy and symbol else ""

    @rx.var(cache=True)
    def objective(self) -> str:
        verb = "Minimize" if self.inputs.mode == "min" else "Maximize"
        return f"{verb} {metric_label(self.inputs.metric)}"

    @rx.var(cache=True)
    def strategy_label(self) -> str:
        return next((c.label for c in self.strategies if c.value == self.strategy), "–")

    @rx.var(cache=True)
    def dataset_label(self) -> str:
        return next((c.short for c in self.datasets if c.value == self.dataset_id), "–")

    @rx.var(cache=True)
    def direction(self) -> str:
        return direction_text(self.inputs.mode).capitalize()

    @rx.var(cache=True)
    def source_href(self) -> str:
        return routes.job_detail(self.source_id) if self.source_id else ""

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self._reset_form()
        user = await current_user(self)
        if user is None:
            return
        query = self.router.url.query_parameters
        try:
            catalog = await asyncio.to_thread(calls.strategies)
            datasets = await asyncio.to_thread(calls.datasets, user.id)
        except Exception:
            logger.exception("new optimization page could not load its catalog")
            self.notice = UNEXPECTED_ERROR
            self.loading = False
            return
        self._specs = {s.name: s.params for s in catalog.data}
        self._constraints = {s.name: s.constraint or "" for s in catalog.data}
        self._descriptions = {s.name: s.description for s in catalog.data}
        self.strategies = [Choice(s.name, s.label, s.description, s.label) for s in catalog.data]
        self.datasets = [_dataset_choice(d) for d in datasets]
        await self._load_budget(user.id, [s.name for s in catalog.data])
        self.dataset_id = self.datasets[0].value if self.datasets else ""
        if self.strategies:
            self._choose_strategy(self.strategies[0].value)
        if source := query.get("source"):
            await self._prefill(user.id, source, query.get("index"))
        elif time.monotonic() - self._restore_asked < RESTORE_WINDOW_SECONDS:
            self._restore_asked = 0.0
            self._apply_draft()  # Back asked before this load reset the form
        self.loading = False
        yield None

    async def _load_budget(self, owner_id: uuid.UUID, strategies: list[str]) -> None:
        """Measured costs and quota headroom for the estimate (the form works without)."""
        try:
            budget = await asyncio.to_thread(calls.budget, owner_id, strategies)
        except Exception:
            logger.exception("estimates could not be loaded")
            return
        self._costs = budget.costs
        self._headroom = estimates.Headroom(budget.combinations_left, budget.bytes_left,
                                            budget.live_left)

    # --- the form as submitted, back after the browser's Back button ------------------------

    def _save_draft(self) -> None:
        self._draft = {name: getattr(self, name) for name in DRAFT_FIELDS}

    def _apply_draft(self) -> None:
        draft = self._draft
        if not draft or draft.get("strategy") not in self._specs:
            return
        for name in DRAFT_FIELDS:
            setattr(self, name, draft[name])
        if self.dataset_id not in {d.value for d in self.datasets}:  # deleted meanwhile
            self.dataset_id = self.datasets[0].value if self.datasets else ""

    @rx.event
    def restore_draft(self) -> None:
        """Reached with Back or Forward (or a reload): show the last submitted form again.
        The page's load may run before or after this event: applied now if the form is
        loaded, and again by a load that follows within a few seconds."""
        if self.router.url.query_parameters.get("source"):
            return
        self._restore_asked = time.monotonic()
        if not self.loading:
            self._apply_draft()

    def _reset_form(self) -> None:
        self.loading = True
        self.notice = ""
        self.inputs = form.FormValues()
        self.checks, self.check_problems = ValidationInputs(), {}
        self.result_constraints = list(PRESET_CONSTRAINTS)
        self._grid_order, self._seed = "shuffled", None
        self.source_id = self.source_name = self.source_combination = ""
        self.submitting = False
        self.submit_error = ""
        self.server_errors = {}
        self.server_param_errors = {}
        self.upload_error = self.upload_notice = ""
        self.upload_problems = []

    async def _prefill(self, owner_id: uuid.UUID, source: str, index: str | None) -> None:
        try:
            job = await asyncio.to_thread(calls.job, owner_id, uuid.UUID(source))
        except (ValueError, NotFoundError):
            self.notice = "The optimization to re-run was not found; the form shows defaults."
            return
        specs = self._specs.get(job.strategy)
        if specs is None:
            self.notice = "The strategy of that optimization is no longer available."
            return
        self.strategy = job.strategy
        if any(c.value == str(job.dataset_id) for c in self.datasets):
            self.dataset_id = str(job.dataset_id)
        combination = _combination(job, index)
        if combination is None:
            self.params = rerun.inputs_from_space(specs, job.param_space)
            name = f"{job.name} (re-run)"
        else:
            self.params = rerun.single_combination_inputs(specs, combination)
            self.source_combination = f"combination #{index}"
            name = f"{job.name} · #{index}"
        self.inputs = rerun.values_from_job(job, name[:200])
        self.result_constraints = constraint_inputs(job.constraints)
        self.checks = inputs_from_job(job.validation, (job.early_stop_policy or {}).get("rankBy"))
        self._grid_order, self._seed = job.grid_order, job.seed  # the same order again
        self.source_id, self.source_name = str(job.id), job.name

    # --- editing -------------------------------------------------------------------------------

    def _choose_strategy(self, name: str) -> None:
        self.strategy = name
        self.params = [form.default_input(spec) for spec in self._specs.get(name, [])]
        self.server_param_errors = {}

    @rx.event
    def set_strategy(self, name: str) -> None:
        if name in self._specs and name != self.strategy:
            self._choose_strategy(name)
            self._clear_server_error("strategy", "grid")

    @rx.event
    def set_dataset(self, dataset_id: str) -> None:
        self.dataset_id = dataset_id
        self._clear_server_error("dataset")

    @rx.event
    def add_constraint(self) -> None:
        if len(self.result_constraints) < MAX_CONSTRAINT_ROWS:
            self.result_constraints = [*self.result_constraints, ConstraintInput()]

    @rx.event
    def remove_constraint(self, index: int) -> None:
        self.result_constraints = [
            row for i, row in enumerate(self.result_constraints) if i != index
        ]

    @rx.event
    def set_constraint(self, index: int, key: str, value: str) -> None:
        if key in ("metric", "op", "value") and 0 <= index < len(self.result_constraints):
            rows = list(self.result_constraints)
            rows[index] = replace(rows[index], **{key: value, "error": ""})
            self.result_constraints = rows

    @rx.event
    def set_value(self, key: str, value: str) -> None:
        """Any plain field of the form (name, numbers, selects)."""
        if key not in form.FormValues.__dataclass_fields__:
            return
        changes: dict[str, str] = {key: str(value)}
        if key == "metric":
            changes["mode"] = default_mode(str(value))
        self.inputs = replace(self.inputs, **changes)
        self._clear_server_error(key)

    @rx.event
    def set_check(self, key: str, value: str) -> None:
        """A field of the validation settings (kind, split, sizes, rank by)."""
        if key not in ValidationInputs.__dataclass_fields__:
            return
        self.checks = replace(self.checks, **{key: str(value)})
        self.check_problems = {k: v for k, v in self.check_problems.items() if k != key}

    @rx.event
    def set_param(self, position: int, key: str, value: str) -> None:
        if key not in ("kind", "start", "stop", "step", "listed"):
            return
        if not 0 <= position < len(self.params):
            return
        params = list(self.params)
        params[position] = replace(params[position], **{key: str(value)})  # type: ignore[arg-type]
        self.params = params
        name = params[position].name
        if name in self.server_param_errors or self.server_errors.get("grid"):
            self.server_param_errors = {
                k: v for k, v in self.server_param_errors.items() if k != name
            }
            self._clear_server_error("grid")

    def _clear_server_error(self, *keys: str) -> None:
        if any(k in self.server_errors for k in keys):
            self.server_errors = {k: v for k, v in self.server_errors.items() if k not in keys}
        self.submit_error = ""

    # --- dataset upload ------------------------------------------------------------------------

    @rx.event
    async def upload_dataset(self, files: list[rx.UploadFile]) -> AsyncIterator[None]:
        self.upload_error = self.upload_notice = ""
        self.upload_problems = []
        self.uploaded_id = ""
        if not files:
            return
        user = await current_user(self)
        if user is None:
            return
        upload = files[0]
        data = await upload.read()
        self.uploading = True
        yield None
        try:
            dataset = await asyncio.to_thread(calls.upload_dataset, user.id, data, upload.name)
        except AppError as error:
            self.upload_error = _upload_message(error)
            self.upload_problems = _upload_problems(error)
        except Exception:
            logger.exception("dataset upload failed unexpectedly")
            self.upload_error = UNEXPECTED_ERROR
        else:
            choice = _dataset_choice(dataset)
            self.datasets = [choice, *[c for c in self.datasets if c.value != choice.value]]
            self.dataset_id = choice.value
            bars = fmt.count(dataset.rows)
            self.upload_notice = f"Uploaded “{dataset.name}”: {bars} daily bars."
            self.uploaded_id, self.upload_name = choice.value, dataset.name
            self.upload_symbol, self.upload_name_error = dataset.symbol, ""
            self._clear_server_error("dataset")
        finally:
            self.uploading = False

    @rx.event
    def set_upload_label(self, key: str, value: str) -> None:
        if key in ("upload_name", "upload_symbol"):
            setattr(self, key, value)
            self.upload_name_error = ""

    @rx.event
    async def save_upload_names(self) -> AsyncIterator[None]:
        """Name the uploaded dataset and its symbol as typed."""
        user = await current_user(self)
        if user is None or not self.uploaded_id:
            return
        try:
            dataset = await asyncio.to_thread(
                calls.rename_dataset, user.id, uuid.UUID(self.uploaded_id), self.upload_name,
                self.upload_symbol,
            )
        except AppError as error:
            self.upload_name_error = readable_error(error)
            return
        except Exception:
            logger.exception("naming an uploaded dataset failed unexpectedly")
            self.upload_name_error = UNEXPECTED_ERROR
            return
        choice = _dataset_choice(dataset)
        self.datasets = [choice if c.value == choice.value else c for c in self.datasets]
        self.upload_notice = f"Saved: “{dataset.name}” ({dataset.symbol})."
        self.uploaded_id = ""
        yield None

    # --- submit --------------------------------------------------------------------------------

    def _body(self) -> JobCreate | None:
        space, problems = form.raw_space(self.params)
        policy, options, errors = form.policy_and_options(self.inputs)
        check = form.check_grid(self.strategy, self.params, settings.grid_cap)
        self.result_constraints, constraints = checked_constraints(self.result_constraints)
        validation, self.check_problems = validation_body(self.checks)
        if self.checks.rank_by == "neighbourhoodMean":
            policy["rankBy"] = "neighbourhoodMean"
        if (problems or errors or check.total is None or not self.strategy or not self.dataset_id
                or constraints is None or self.check_problems):
            self.submit_error = "Fix the fields marked in red, then start again."
            return None
        return JobCreate(
            name=self.inputs.name.strip() or self.default_name or None,
            strategy=self.strategy,
            dataset_id=uuid.UUID(self.dataset_id),
            param_space=space,
            early_stop_policy=policy,
            backtest_options=options,
            constraints=constraints,
            grid_order="sequential" if self._grid_order == "sequential" else "shuffled",
            seed=self._seed,
            validation=validation,
            source_job_id=uuid.UUID(self.source_id) if self.source_id else None,
        )

    @rx.event
    async def submit(self) -> AsyncIterator[EventSpec | None]:
        if self.submitting:
            return
        self.submit_error = ""
        body = self._body()
        user = await current_user(self)
        if body is None or user is None:
            return
        self.submitting = True
        yield None
        try:
            job = await asyncio.to_thread(calls.submit, user.id, body)
        except ValidationError as error:
            self._show_server_problems(error)
        except AppError as error:
            self.submit_error = readable_error(error)
        except Exception:
            logger.exception("submitting a job failed unexpectedly")
            self.submit_error = UNEXPECTED_ERROR
        else:
            self._save_draft()
            yield rx.redirect(routes.job_detail(str(job.id)))
        finally:
            self.submitting = False

    def _show_server_problems(self, error: AppError) -> None:
        found = form.map_server_details(error.details if isinstance(error.details, list) else [])
        grid = [g for g in found.general if g.lower().startswith("paramspace")]
        other = [g for g in found.general if g not in grid]
        self.server_errors = {**found.fields, **({"grid": " ".join(grid)} if grid else {})}
        self.server_param_errors = found.params
        self.submit_error = " ".join(other) or "Some fields need attention; see the messages below."


def _combination(job: JobPublic, index: str | None) -> dict[str, Any] | None:
    """The parameters of one combination of a job (by its grid index), or None."""
    if index is None or not index.isdigit():
        return None
    for entry in job.summary.top_n:
        if entry.index == int(index):
            return dict(entry.params)
    try:
        grid = build_grid(job.strategy, job.param_space, cap=max(settings.grid_cap, 1))
        return grid.params_at(int(index))
    except (ValueError, IndexError):
        return None

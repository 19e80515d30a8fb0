"""The new-optimization form as data: what the user typed (strings), turned into a job body,
checked field by field, and filled in from a source job for a re-run. Pure: no Reflex here, so
every rule is unit-tested without a browser."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from optimizer_app.domain.grid import GridError, build_grid
from optimizer_app.services.schemas import StrategyParamPublic
from optimizer_app.ui import format as fmt
from optimizer_app.ui.param_checks import editor_problem
from optimizer_app.ui.vocabulary import DEFAULT_METRIC, METRICS

MAX_TOP_N = 100
VALUE_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass
class ParamInput:
    """One parameter's editor: a range (start/stop/step) or a list of values, as typed."""

    name: str
    label: str
    type: str  # "int" | "float"
    description: str = ""
    allowed: str = ""  # "whole number from 2 to 200"
    kind: str = "range"  # "range" | "values"
    start: str = ""
    stop: str = ""
    step: str = ""
    listed: str = ""  # the values of the list mode, as typed
    error: str = ""  # filled in by check_grid for display
    error_field: str = ""  # the input the error is about: start, stop, step, values ("": all)
    low: float = 0.0  # the strategy's bounds (high < low: unknown, not checked here)
    high: float = -1.0


@dataclass
class FormValues:
    """Everything else on the form, as typed."""

    name: str = ""
    metric: str = DEFAULT_METRIC
    mode: str = "max"
    top_n: str = "10"
    target_score: str = ""
    patience: str = ""
    min_tasks: str = ""
    initial_cash: str = "10000"
    commission_pct: str = "0.2"
    slippage_pct: str = "0"
    direction: str = "long"
    sizing: str = "fractional"


FIELD_KEYS = (
    "name",
    "strategy",
    "dataset",
    "metric",
    "mode",
    "top_n",
    "target_score",
    "patience",
    "min_tasks",
    "initial_cash",
    "commission_pct",
    "slippage_pct",
    "direction",
    "sizing",
)


@dataclass(frozen=True)
class GridCheck:
    total: int | None  # None while the space is invalid
    param_errors: dict[str, str] = field(default_factory=dict)
    param_fields: dict[str, str] = field(default_factory=dict)  # which input of the editor
    message: str = ""  # a problem of the grid as a whole (too large, constraint unmet)


# --- numbers ------------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def parse_number(text: str, kind: str) -> int | float:
    """A typed number; ValueError with a sentence for the user when it is not one."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        raise ValueError("enter a number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{text.strip()}” is not a number") from None
    if not value.is_finite():
        raise ValueError("enter a finite number")
    if kind == "int":
        if value != value.to_integral_value():
            raise ValueError("enter a whole number")
        return int(value)
    return float(value)


def _percent_to_fraction(text: str) -> float:
    value = Decimal(str(parse_number(text, "float"))) / 100
    return float(value)


def fraction_to_percent(value: Any) -> str:
    return f"{float(value) * 100:.10g}"


# --- parameter editors --------------------------------------------------------------------------


def _nice_step(span: float, kind: str, wanted: int = 6) -> int | float:
    raw = span / wanted if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if kind == "int":
        return max(1, int(round(step)))
    return float(f"{step:.6g}")


def default_input(spec: StrategyParamPublic) -> ParamInput:
    """A modest range around the declared default: half to double it, within the bounds."""
    low, high, default = float(spec.min or 0), float(spec.max or 0), float(spec.default or 0)
    start = max(low, default / 2) if default > 0 else low
    stop = min(high, default * 2) if default > 0 else high
    step = _nice_step(stop - start, spec.type)
    if spec.type == "int":
        start, stop = math.ceil(start), math.floor(stop)
    noun = "whole number" if spec.type == "int" else "number"
    return ParamInput(
        name=spec.name,
        label=spec.label or spec.name,
        type=spec.type,
        description=spec.description or "",
        allowed=f"{noun} from {fmt.plain_number(low)} to {fmt.plain_number(high)}",
        start=as_text(start),
        stop=as_text(stop),
        step=as_text(step),
        listed=as_text(spec.default if spec.default is not None else start),
        low=low,
        high=high,
    )


def _raw_param(param: ParamInput) -> tuple[dict[str, Any] | None, str]:
    try:
        if param.kind == "values":
            parts = [p for p in VALUE_SEPARATORS.split(param.listed.strip()) if p]
            if not parts:
                return None, "List at least one value."
            return {"values": [parse_number(p, param.type) for p in parts]}, ""
        bounds = {}
        for key in ("start", "stop", "step"):
            try:
                bounds[key] = parse_number(getattr(param, key), param.type)
            except ValueError as exc:
                return None, f"{key.capitalize()}: {exc}."
        return bounds, ""
    except ValueError as exc:
        return None, f"Values: {exc}."


def raw_space(params: list[ParamInput]) -> tuple[dict[str, Any], dict[str, str]]:
    """The paramSpace of the job body, and the parameters that could not be read."""
    space: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for param in params:
        raw, problem = _raw_param(param)
        if raw is None:
            problems[param.name] = problem
        else:
            space[param.name] = raw
    return space, problems


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _param_problem(field_path: str, problem: str) -> tuple[str, str] | None:
    """``paramSpace.fast.values.2`` → (``fast``, ``Value 3: …``)."""
    parts = field_path.split(".")
    if len(parts) < 2 or parts[0] != "paramSpace":
        return None
    where = ""
    if len(parts) >= 4 and parts[2] == "values" and parts[3].isdigit():
        where = f"Value {int(parts[3]) + 1}: "
    elif len(parts) >= 3:
        where = f"{parts[2].capitalize()}: "
    text = _sentence(problem)
    if where:
        text = problem.strip()[:1] + text[1:]  # "Stop: 300 is above…", lower case after ':'
    return parts[1], where + text


def _input_of(field_path: str) -> str:
    """``paramSpace.fast.values.2`` → ``values``; ``paramSpace.fast.stop`` → ``stop``."""
    parts = field_path.split(".")
    return parts[2] if len(parts) >= 3 and parts[2] in ("start", "stop", "step", "values") else ""


@lru_cache(maxsize=256)
def _check(strategy: str, space_json: str, cap: int) -> GridCheck:
    try:
        grid = build_grid(strategy, json.loads(space_json), cap=cap)
    except GridError as exc:
        errors: dict[str, str] = {}
        fields: dict[str, str] = {}
        general: list[str] = []
        for detail in exc.details or []:
            mapped = _param_problem(detail.get("field", ""), detail.get("problem", ""))
            if mapped:
                errors.setdefault(mapped[0], mapped[1])
                fields.setdefault(mapped[0], _input_of(detail.get("field", "")))
            else:
                general.append(_sentence(detail.get("problem", "")))
        if not errors and not general:
            general.append(_sentence(exc.message))
        return GridCheck(total=None, param_errors=errors, param_fields=fields,
                         message=" ".join(general))
    return GridCheck(total=grid.total)


def check_grid(strategy: str, params: list[ParamInput], cap: int) -> GridCheck:
    """How many combinations the editors describe, or what is wrong with them."""
    if not strategy or not params:
        return GridCheck(total=None)
    typed = {p.name: problem for p in params if (problem := editor_problem(p))}
    if typed:
        return GridCheck(total=None, param_errors={n: p.message for n, p in typed.items()},
                         param_fields={n: p.field for n, p in typed.items()})
    space, problems = raw_space(params)
    if problems:
        return GridCheck(total=None, param_errors=problems)
    return _check(strategy, json.dumps(space, sort_keys=True), cap)


def with_errors(params: list[ParamInput], check: GridCheck) -> list[ParamInput]:
    return [replace(p, error=check.param_errors.get(p.name, ""),
                    error_field=check.param_fields.get(p.name, "")) for p in params]


def combinations_text(check: GridCheck, cap: int) -> str:
    if check.total is None:
        return f"– combinations (max {cap:,})"
    noun = "combination" if check.total == 1 else "combinations"
    return f"{check.total:,} {noun} (max {cap:,})"


# --- the rest of the form -----------------------------------------------------------------------


def _optional(text: str, kind: str, key: str, errors: dict[str, str]) -> int | float | None:
    if not text.strip():
        return None
    try:
        return parse_number(text, kind)
    except ValueError as exc:
        errors[key] = _sentence(str(exc))
        return None


def _required(text: str, kind: str, key: str, errors: dict[str, str]) -> int | float | None:
    try:
        return parse_number(text, kind)
    except ValueError as exc:
        errors[key] = _sentence(str(exc))
        return None


def _check_ranges(
    values: FormValues, policy: dict[str, Any], options: dict[str, Any], errors: dict[str, str]
) -> None:
    top_n = policy.get("topN")
    if isinstance(top_n, int) and not 1 <= top_n <= MAX_TOP_N:
        errors["top_n"] = f"Keep between 1 and {MAX_TOP_N} best combinations."
    if isinstance(policy.get("patience"), int) and policy["patience"] < 1:
        errors["patience"] = "Use at least 1 task, or leave empty."
    if isinstance(policy.get("minTasks"), int) and policy["minTasks"] < 0:
        errors["min_tasks"] = "Use 0 or more tasks, or leave empty."
    cash = options.get("initialCash")
    if isinstance(cash, float) and cash <= 0:
        errors["initial_cash"] = "Start with more than 0."
    for key, name in (("commission", "commission_pct"), ("slippage", "slippage_pct")):
        fraction = options.get(key)
        if isinstance(fraction, float) and not 0 <= fraction <= 0.1:
            errors[name] = "Use a percentage from 0 to 10."
    if values.metric not in METRICS:
        errors["metric"] = "Choose a metric."
    if values.mode not in ("max", "min"):
        errors["mode"] = "Choose maximize or minimize."


def policy_and_options(values: FormValues) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The earlyStopPolicy and backtestOptions of the body, and the fields that are wrong."""
    errors: dict[str, str] = {}
    policy = {
        "metric": values.metric,
        "mode": values.mode,
        "topN": _required(values.top_n, "int", "top_n", errors),
        "targetScore": _optional(values.target_score, "float", "target_score", errors),
        "patience": _optional(values.patience, "int", "patience", errors),
        "minTasks": _optional(values.min_tasks, "int", "min_tasks", errors),
    }
    options: dict[str, Any] = {
        "initialCash": _required(values.initial_cash, "float", "initial_cash", errors),
        "direction": values.direction,
        "sizing": values.sizing,
    }
    for key, name in (("commission", "commission_pct"), ("slippage", "slippage_pct")):
        try:
            options[key] = _percent_to_fraction(getattr(values, name))
        except ValueError as exc:
            errors[name] = _sentence(str(exc))
    _check_ranges(values, policy, options, errors)
    policy = {k: v for k, v in policy.items() if v is not None}
    return policy, options, errors


_SERVER_FIELDS = {
    "name": "name",
    "strategy": "strategy",
    "datasetId": "dataset",
    "earlyStopPolicy.metric": "metric",
    "earlyStopPolicy.mode": "mode",
    "earlyStopPolicy.topN": "top_n",
    "earlyStopPolicy.targetScore": "target_score",
    "earlyStopPolicy.patience": "patience",
    "earlyStopPolicy.minTasks": "min_tasks",
    "backtestOptions.initialCash": "initial_cash",
    "backtestOptions.commission": "commission_pct",
    "backtestOptions.slippage": "slippage_pct",
    "backtestOptions.direction": "direction",
    "backtestOptions.sizing": "sizing",
}


@dataclass
class ServerProblems:
    fields: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def map_server_details(details: list[Any]) -> ServerProblems:
    """A submit's 422 details, placed next to the fields they are about."""
    found = ServerProblems()
    for detail in details:
        if not isinstance(detail, dict):
            continue
        path, problem = str(detail.get("field", "")), str(detail.get("problem", ""))
        if mapped := _param_problem(path, problem):
            found.params.setdefault(*mapped)
        elif key := _SERVER_FIELDS.get(path):
            found.fields.setdefault(key, _sentence(problem))
        else:
            found.general.append(_sentence(f"{path}: {problem}" if path else problem))
    return found

"""Expanding one parameter's ``values`` or ``start/stop/step`` into sorted, checked values."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np

from optimizer_app.domain.strategies.base import ParamSpec

Problem = tuple[str, str]


class GridError(ValueError):
    """An invalid param space; ``details`` = ``[{"field": "paramSpace.fast", "problem": ...}]``."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, str]] = [
            {"field": field, "problem": problem} for field, problem in (problems or [])
        ]

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> GridError:
        shown = "; ".join(f"{field}: {problem}" for field, problem in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return cls(f"invalid parameter space: {shown}{more}", problems)


def _type_problem(spec: ParamSpec, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if spec.type == "int" and not isinstance(value, int):
        return f"must be a whole number (int parameter), got {value!r}"
    return None


def _range_text(spec: ParamSpec) -> str:
    return f"{spec.type} in {spec.min:g}..{spec.max:g}"


def _bounds_problem(spec: ParamSpec, value: int | float) -> str | None:
    if value < spec.min:
        return f"{value!r} is below the minimum {spec.min:g} (allowed: {_range_text(spec)})"
    if value > spec.max:
        return f"{value!r} is above the maximum {spec.max:g} (allowed: {_range_text(spec)})"
    return None


def _from_values(spec: ParamSpec, field: str, raw: list[Any], problems: list[Problem]) -> list:
    ok: list[int | float] = []
    for i, value in enumerate(raw):
        problem = _type_problem(spec, value) or _bounds_problem(spec, value)
        if problem:
            problems.append((f"{field}.values.{i}", problem))
        else:
            ok.append(value)
    return ok


def _from_range(
    spec: ParamSpec,
    field: str,
    start: Any,
    stop: Any,
    step: Any,
    cap: int,
    problems: list[Problem],
) -> list:
    before = len(problems)
    for key, value in (("start", start), ("stop", stop), ("step", step)):
        problem = _type_problem(spec, value)
        if problem:
            problems.append((f"{field}.{key}", problem))
    if len(problems) > before:
        return []
    for key, value in (("start", start), ("stop", stop)):
        problem = _bounds_problem(spec, value)
        if problem:
            problems.append((f"{field}.{key}", problem))
    if step <= 0:
        problems.append((f"{field}.step", f"must be > 0, got {step!r}"))
    if start > stop:
        problems.append((f"{field}", f"start {start!r} is greater than stop {stop!r}"))
    if len(problems) > before:
        return []
    if spec.type == "int":
        count = (stop - start) // step + 1
    else:  # exact decimal arithmetic: 0.1 steps land on 0.3, not 0.30000000000000004
        d_start, d_step = Decimal(repr(float(start))), Decimal(repr(float(step)))
        count = int((Decimal(repr(float(stop))) - d_start) / d_step) + 1
    if count > cap:
        problems.append((field, f"has {count:,} values; the grid limit is {cap:,} combinations"))
        return []
    if spec.type == "int":
        return list(range(start, stop + 1, step))
    return [float(d_start + i * d_step) for i in range(count)]


def expand_values(
    spec: ParamSpec,
    values: list[Any] | None,
    bounds: tuple[Any, Any, Any] | None,
    cap: int,
    problems: list[Problem],
) -> np.ndarray | None:
    """Sorted unique values of one parameter (from a list or from start/stop/step),
    or None after appending problems."""
    field = f"paramSpace.{spec.name}"
    before = len(problems)
    if values is not None:
        values = _from_values(spec, field, values, problems)
    elif bounds is not None:
        values = _from_range(spec, field, *bounds, cap, problems)
    else:
        raise ValueError("give values or bounds")
    if len(problems) > before:
        return None
    dtype = np.int64 if spec.type == "int" else np.float64
    return np.unique(np.asarray(values, dtype=dtype))

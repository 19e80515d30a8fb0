"""Result constraints: conditions on a combination's metrics (``trades >= 10``,
``maxDrawdown <= 0.3``). A finished combination that fails one is stored and counted, but
never ranked: the Top-N, the target score and the patience rule see only those that pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from optimizer_app.domain.stats import known_metric

Op = Literal[">=", "<=", ">", "<"]
MAX_CONSTRAINTS = 20
_COMPARE = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}
_SYMBOL = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


class Constraint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    op: Op
    value: float = Field(allow_inf_nan=False)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return known_metric(value)

    def text(self) -> str:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{self.metric} {_SYMBOL[self.op]} {value}"


_LIST = TypeAdapter(list[Constraint])


def parse_constraints(raw: Any) -> list[Constraint]:
    """Validated constraints (raise pydantic's ValidationError); None is no constraint."""
    if raw is None:
        return []
    constraints = _LIST.validate_python(raw)
    if len(constraints) > MAX_CONSTRAINTS:
        raise ValueError(f"at most {MAX_CONSTRAINTS} constraints")
    return constraints


def as_json(constraints: Sequence[Constraint]) -> list[dict[str, Any]]:
    return [c.model_dump() for c in constraints]


def passing(metrics: Mapping[str, Any], constraints: Sequence[Constraint], count: int
            ) -> np.ndarray | None:
    """Which of ``count`` combinations pass every constraint (a missing or NaN metric
    fails); None when there are no constraints (all pass)."""
    if not constraints:
        return None
    mask = np.ones(count, dtype=bool)
    for constraint in constraints:
        values = np.asarray(metrics[constraint.metric], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            mask &= _COMPARE[constraint.op](values, constraint.value) & np.isfinite(values)
    return mask


def passes_one(metrics: Mapping[str, Any], constraints: Sequence[Constraint]) -> bool:
    """The same test for one combination's metrics (a mapping of plain numbers)."""
    if not constraints:
        return True
    arrays = {c.metric: np.asarray([np.nan if metrics.get(c.metric) is None
                                    else metrics[c.metric]], dtype=np.float64)
              for c in constraints}
    mask = passing(arrays, constraints, 1)
    return bool(mask is None or mask[0])


def describe(constraints: Sequence[Constraint]) -> str:
    """``trades ≥ 10 and maxDrawdown ≤ 0.3``; empty without constraints."""
    return " and ".join(c.text() for c in constraints)

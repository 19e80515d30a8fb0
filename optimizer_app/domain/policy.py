"""Early-stop policy: which metric is the score, its direction, the Top-N size and stop rules."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from optimizer_app.domain.stats import known_metric

__all__ = ["EarlyStopPolicy", "is_better", "stop_reason"]

Mode = Literal["max", "min"]


class EarlyStopPolicy(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    mode: Mode
    metric: str
    top_n: int = Field(10, ge=1, le=100)
    target_score: float | None = Field(None, allow_inf_nan=False)
    patience: int | None = Field(None, ge=1)
    min_tasks: int | None = Field(None, ge=0)
    # How the Top-N is ranked for reading: by its own score, or by the mean score of each
    # row's grid neighbours (a plateau above a spike); the job's run is the same either way.
    rank_by: Literal["score", "neighbourhoodMean"] = "score"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return known_metric(value)


def _is_number(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def is_better(a: float | None, b: float | None, mode: Mode) -> bool:
    """True if score ``a`` beats ``b`` (strictly). NaN/None never beats; anything beats them."""
    if not _is_number(a):
        return False
    if not _is_number(b):
        return True
    assert a is not None and b is not None
    return a > b if mode == "max" else a < b


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def stop_reason(
    policy: EarlyStopPolicy, *, finished: int, best: float | None, since_best: int
) -> str | None:
    """Why the job should stop now, or None to go on.

    ``finished`` counts finished tasks, ``best`` is the best score so far and ``since_best``
    the tasks finished since the best last improved.
    """
    if policy.min_tasks is not None and finished < policy.min_tasks:
        return None
    target = policy.target_score
    if target is not None and _is_number(best):
        assert best is not None
        reached = best >= target if policy.mode == "max" else best <= target
        if reached:
            return f"target score {_fmt(target)} reached (best {_fmt(best)})"
    if policy.patience is not None and since_best >= policy.patience:
        return f"no new best in {policy.patience} tasks (patience)"
    return None

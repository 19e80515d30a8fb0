from __future__ import annotations

import math

import pydantic
import pytest

from optimizer_app.domain.policy import EarlyStopPolicy, is_better, stop_reason


def test_camel_case_fields_and_defaults() -> None:
    policy = EarlyStopPolicy.model_validate(
        {"mode": "max", "metric": "sharpe", "targetScore": 1.5, "minTasks": 0}
    )
    assert policy.top_n == 10 and policy.target_score == 1.5 and policy.patience is None
    assert policy.model_dump(by_alias=True)["topN"] == 10
    assert EarlyStopPolicy(mode="min", metric="maxDrawdown", top_n=3).top_n == 3


@pytest.mark.parametrize(
    "raw",
    [
        {"metric": "sharpe"},
        {"mode": "best", "metric": "sharpe"},
        {"mode": "max", "metric": "sharpeRatio"},
        {"mode": "max", "metric": "sharpe", "topN": 0},
        {"mode": "max", "metric": "sharpe", "topN": 101},
        {"mode": "max", "metric": "sharpe", "patience": 0},
        {"mode": "max", "metric": "sharpe", "minTasks": -1},
        {"mode": "max", "metric": "sharpe", "targetScore": float("nan")},
        {"mode": "max", "metric": "sharpe", "stopAfter": 5},
    ],
)
def test_invalid_policies(raw: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        EarlyStopPolicy.model_validate(raw)


def test_unknown_metric_lists_the_valid_ones() -> None:
    with pytest.raises(pydantic.ValidationError, match="finalEquity, totalReturn, cagr, sharpe"):
        EarlyStopPolicy.model_validate({"mode": "max", "metric": "alpha"})


def test_is_better_by_mode_and_nan() -> None:
    assert is_better(2.0, 1.0, "max") and not is_better(1.0, 2.0, "max")
    assert is_better(1.0, 2.0, "min") and not is_better(2.0, 1.0, "min")
    assert not is_better(1.0, 1.0, "max")
    assert is_better(-5.0, None, "max") and is_better(-5.0, math.nan, "min")
    assert not is_better(math.nan, 1.0, "max") and not is_better(None, None, "min")


def test_stop_reasons() -> None:
    target = EarlyStopPolicy(mode="max", metric="sharpe", target_score=1.5)
    assert (
        stop_reason(target, finished=10, best=1.62, since_best=0)
        == "target score 1.5 reached (best 1.62)"
    )
    assert stop_reason(target, finished=10, best=1.4, since_best=0) is None
    assert stop_reason(target, finished=10, best=None, since_best=0) is None
    low = EarlyStopPolicy(mode="min", metric="maxDrawdown", target_score=0.1)
    assert (
        stop_reason(low, finished=1, best=0.1, since_best=0)
        == "target score 0.1 reached (best 0.1)"
    )
    assert stop_reason(low, finished=1, best=0.2, since_best=0) is None
    patient = EarlyStopPolicy(mode="max", metric="sharpe", patience=500)
    assert stop_reason(patient, finished=900, best=1.0, since_best=499) is None
    assert (
        stop_reason(patient, finished=900, best=1.0, since_best=500)
        == "no new best in 500 tasks (patience)"
    )
    guarded = EarlyStopPolicy(
        mode="max", metric="sharpe", target_score=1.0, patience=5, min_tasks=100
    )
    assert stop_reason(guarded, finished=99, best=3.0, since_best=50) is None
    assert stop_reason(guarded, finished=100, best=3.0, since_best=50).startswith("target score 1")
    none = EarlyStopPolicy(mode="max", metric="sharpe")
    assert stop_reason(none, finished=10**6, best=99.0, since_best=10**6) is None

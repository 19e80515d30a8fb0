"""Service models as the UI receives them, built without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from optimizer_app.services.schemas import JobPublic, JobSummary, StrategyParamPublic, TopNEntry
from optimizer_app.services.strategies import list_strategies

CREATED = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


def specs(strategy: str) -> list[StrategyParamPublic]:
    return next(s.params for s in list_strategies().data if s.name == strategy)


def entry(index: int, score: float, **metrics: float) -> TopNEntry:
    return TopNEntry(
        task_id=uuid.uuid5(uuid.NAMESPACE_OID, str(index)),
        index=index,
        score=score,
        params={"fast": index, "slow": 40},
        metrics=metrics,
    )


def make_job(**changes: Any) -> JobPublic:
    fields: dict[str, Any] = {
        "id": uuid.UUID("00000000-0000-0000-0000-00000000000a"),
        "name": "Story small",
        "strategy": "sma_cross",
        "dataset_id": uuid.UUID("00000000-0000-0000-0000-0000000000d1"),
        "dataset_name": "Google (GOOG) daily",
        "param_space": {
            "fast": {"start": 5, "stop": 20, "step": 5},
            "slow": {"values": [10, 20, 40]},
        },
        "early_stop_policy": {"metric": "sharpe", "mode": "max", "topN": 10},
        "backtest_options": {
            "initialCash": 25000.0,
            "commission": 0.001,
            "slippage": 0.0005,
            "direction": "long_short",
            "sizing": "whole",
        },
        "status": "succeeded",
        "summary": JobSummary(total=22, finished=22, failed=0, top_n=[]),
        "created_at": CREATED,
    }
    fields.update(changes)
    return JobPublic(**fields)

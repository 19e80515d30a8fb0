"""Public models returned by services (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    def dump(self) -> dict:  # type: ignore[type-arg]
        return self.model_dump(mode="json", by_alias=True)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UtcModel(CamelModel):
    @field_serializer("*", when_used="json")
    def _utc(self, value: object) -> object:
        if isinstance(value, datetime):
            return as_utc(value).isoformat()  # type: ignore[union-attr]
        return value


class UserPublic(UtcModel):
    id: uuid.UUID
    email: str
    created_at: datetime | None = None


class TokenPublic(CamelModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# --- Optimization jobs -------------------------------------------------------------------------


class TopNEntry(CamelModel):
    """One row of the live leaderboard kept in ``summary.topN``."""

    task_id: uuid.UUID
    index: int
    score: float
    params: dict[str, Any]
    metrics: dict[str, float | int | None] = {}


class JobSummary(CamelModel):
    total: int = 0
    finished: int = 0
    failed: int = 0
    constrained: int = 0  # finished combinations that failed a result constraint (never ranked)
    # failed combinations by category: data | strategy | resource | lost | timeout
    failures: dict[str, int] = {}
    top_n: list[TopNEntry] = []


class JobCreate(CamelModel):
    """Body of POST /optimizations. A re-run is the same body with ``sourceJobId``; a re-run
    of the source's failed combinations is ``{"sourceJobId": …, "rerun": "failed"}`` (and
    optionally ``name``): everything else is copied from the source. Without ``rerun``,
    ``strategy``, ``datasetId``, ``paramSpace`` and ``earlyStopPolicy`` are required."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    name: str | None = Field(default=None, max_length=200)
    strategy: str | None = Field(default=None, min_length=1, max_length=100)
    dataset_id: uuid.UUID | None = None
    param_space: dict[str, Any] | None = None
    early_stop_policy: dict[str, Any] | None = None
    backtest_options: dict[str, Any] | None = None
    # Result constraints, each {metric, op, value} with op one of >=, <=, >, <.
    constraints: list[Any] | None = None
    # The order combinations run in: "shuffled" (seeded; the seed is generated when absent)
    # or "sequential" (index order).
    grid_order: Literal["shuffled", "sequential"] = "shuffled"
    seed: int | None = Field(default=None, ge=0, le=2**53 - 1)
    # Out-of-sample validation: {"kind": "holdout", "fraction" | "start"} or
    # {"kind": "walkforward", "folds", "trainBars", "testBars", "anchored"}; null for none.
    validation: dict[str, Any] | None = None
    source_job_id: uuid.UUID | None = None
    # "failed": run exactly the source job's failed combinations (needs sourceJobId).
    rerun: Literal["failed"] | None = None


class JobPublic(UtcModel):
    id: uuid.UUID
    name: str
    strategy: str
    dataset_id: uuid.UUID
    dataset_name: str | None = None
    param_space: dict[str, Any]
    early_stop_policy: dict[str, Any]
    backtest_options: dict[str, Any]
    constraints: list[dict[str, Any]] = []
    grid_order: str = "sequential"
    seed: int | None = None
    validation: dict[str, Any] | None = None
    # null (no validation), "pending" (results come once the job ended), "done" or "failed"
    validation_state: str | None = None
    status: str
    summary: JobSummary
    # [finished tasks, best score] each time the best improved (for a best-score chart)
    best_history: list[tuple[int, float]] = []
    progress: float = 0.0  # (finished + failed) / total, 0..1
    best_score: float | None = None
    source_job_id: uuid.UUID | None = None
    source_job_name: str | None = None
    rerun_ids: list[uuid.UUID] = []
    rerun: str | None = None  # "failed": this job runs its source's failed combinations only
    stop_reason: str | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    queue_wait_seconds: float | None = None
    exec_seconds: float | None = None


class JobsPublic(CamelModel):
    data: list[JobPublic]
    count: int


class QueueInfo(UtcModel):
    """Why a queued job waits: its position among queued jobs in claim order (1 = next), the
    reason in words, and when it is expected to start."""

    position: int
    reason: str
    estimated_start: datetime | None = None


class OptimizationStatusResponse(UtcModel):
    id: uuid.UUID
    status: str
    summary: JobSummary
    stop_reason: str | None = None
    queue_wait_seconds: float | None = None
    exec_seconds: float | None = None
    updated_at: datetime | None = None
    # While queued: {position, reason, estimatedStart} (services.queue); null otherwise.
    queue: QueueInfo | None = None


class TaskPublic(UtcModel):
    id: uuid.UUID
    job_id: uuid.UUID
    index: int
    params: dict[str, Any]
    status: str
    score: float | None = None
    metrics: dict[str, float | int | None] | None = None
    artifacts: list[dict[str, Any]] = []
    attempts: int = 1
    error: str | None = None
    error_category: str | None = None  # of a failed task: data | strategy | resource | lost | timeout
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TasksPublic(CamelModel):
    data: list[TaskPublic]
    count: int


# --- Datasets and strategies -------------------------------------------------------------------


class DatasetPublic(UtcModel):
    id: uuid.UUID
    name: str
    symbol: str
    timeframe: str
    rows: int
    first_date: date
    last_date: date
    checksum: str
    source: str | None = None
    bundled: bool = False
    created_at: datetime | None = None


class DatasetsPublic(CamelModel):
    data: list[DatasetPublic]
    count: int


class StrategyParamPublic(CamelModel):
    name: str
    type: str
    min: float | int | None = None
    max: float | int | None = None
    default: float | int | None = None
    label: str | None = None
    description: str | None = None


class StrategyPublic(CamelModel):
    name: str
    label: str
    description: str
    params: list[StrategyParamPublic]
    constraint: str | None = None


class StrategiesPublic(CamelModel):
    data: list[StrategyPublic]
    count: int
    metric_keys: list[str] = []


class CombinationPublic(CamelModel):
    """One combination of a job (GET /optimizations/{id}/combinations/{index})."""

    index: int
    params: dict[str, Any]
    status: str  # succeeded | failed | not_run (computed on demand, never run by the job)
    score: float | None = None  # null when it fails a result constraint
    metrics: dict[str, float | int | None] | None = None
    passes_constraints: bool | None = None
    rank: int | None = None  # its place in the Top-N, if it is there
    error: str | None = None


class EquityPublic(CamelModel):
    dates: list[str]
    equity: list[float | None]
    benchmark: list[float | None]  # buy-and-hold of the same bars and cash
    drawdown: list[float | None]  # fraction below the running peak (0.25 = 25%)


class TradesPublic(CamelModel):
    data: list[dict[str, Any]]
    count: int


class HeatmapCell(CamelModel):
    """The best score at one pair of parameter values and the combination holding it."""

    x: int | float
    y: int | float | None = None
    score: float
    index: int
    params: dict[str, Any]


class HeatmapPublic(CamelModel):
    """GET /optimizations/{id}/heatmap: the best score at each pair of values of two
    parameters over every scored combination (``y`` null for a one-parameter strategy)."""

    x: str
    y: str | None = None
    x_values: list[int | float]
    y_values: list[int | float]
    axes: list[str]  # the parameters that vary in the grid: the ones worth an axis
    metric: str
    mode: str
    cells: list[HeatmapCell]

"""SQLModel tables. The schema is owned by the Alembic migrations in ``alembic/``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from optimizer_app.domain.jsontext import stored_metrics


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EARLY_STOPPED = "early-stopped"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.EARLY_STOPPED, JobStatus.CANCELED}
)
LIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


class StoredMetrics(TypeDecorator[Any]):
    """JSON holding a task's metrics: written in bulk as an array in ``METRIC_KEYS`` order
    (``domain.jsontext.metric_lines``), read back as ``{metric: value}`` (rows written as an
    object read as they are)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return stored_metrics(value)


class TaskStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    symbol: str = Field(max_length=50)
    timeframe: str = Field(default="1d", max_length=10)
    rows: int
    first_date: date
    last_date: date
    checksum: str = Field(max_length=64, index=True)
    storage_path: str = Field(max_length=1000)
    source: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class OptimizationJob(SQLModel, table=True):
    __tablename__ = "optimization_jobs"
    __table_args__ = (
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id")
    name: str = Field(max_length=200)
    strategy: str = Field(max_length=100)
    dataset_id: uuid.UUID = Field(foreign_key="datasets.id", index=True)
    param_space: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    early_stop_policy: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    backtest_options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default=JobStatus.QUEUED.value, max_length=20)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Result constraints, each {metric, op, value} (see domain.constraints).
    constraints: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # The order combinations run in (domain.order): "shuffled" by its seed, or "sequential".
    grid_order: str = Field(
        default="shuffled", sa_column=Column(String(20), nullable=False,
                                             server_default="sequential")
    )
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Validation settings (domain.validation: hold-out or walk-forward; null for none), the
    # state of their out-of-sample results ("pending", "done", "failed"; null for none) and
    # those results, stored once the job ended (services.validation reads them).
    validation: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    validation_state: str | None = Field(
        default=None, sa_column=Column(String(20), nullable=True, index=True)
    )
    validation_result: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # No foreign key: a re-run keeps the id of a source job that was deleted (migration 0005).
    source_job_id: uuid.UUID | None = Field(default=None, index=True)
    stop_reason: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=2000)
    cancel_requested: bool = Field(default=False)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts()
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    queue_wait_seconds: float | None = None
    exec_seconds: float | None = None
    # A re-run of some combinations only (e.g. a source job's failed ones): their grid
    # indices, compressed (domain.subset); None runs the whole grid.
    combination_subset: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    # What the job re-runs of its source: "failed", or None (a new job or a full re-run).
    rerun: str | None = Field(default=None, max_length=20)


class OptimizationTask(SQLModel, table=True):
    __tablename__ = "optimization_tasks"
    __table_args__ = (
        # Also the key every per-job read goes through (a job's rows lie together in it).
        # No score index: leaderboard pages sort a job's rows (see migration 0004).
        UniqueConstraint("job_id", "index", name="uq_tasks_job_index"),
    )

    id: uuid.UUID = Field(primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="optimization_jobs.id")
    index: int
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20)
    score: float | None = None
    # Every succeeded task's metrics live on its own row (one row written per combination),
    # stored compactly (see ``StoredMetrics``); a ResultSummary exists only for tasks that got
    # artifacts (they entered the Top-N).
    metrics: dict[str, Any] | None = Field(
        default=None, sa_column=Column(StoredMetrics(none_as_null=True), nullable=True)
    )
    result_summary_id: uuid.UUID | None = None
    attempts: int = 1
    error: str | None = Field(default=None, max_length=2000)
    # Why a failed task failed: data | strategy | resource | lost | timeout (domain.failures).
    error_category: str | None = Field(default=None, max_length=20)
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()


class ResultSummary(SQLModel, table=True):
    """Metrics and artifact links of a task that entered the Top-N when it finished (the
    export reads these); other tasks have no ResultSummary."""

    __tablename__ = "result_summaries"

    id: uuid.UUID = Field(primary_key=True)
    task_id: uuid.UUID = Field(foreign_key="optimization_tasks.id", unique=True)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    artifacts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ResultFile(SQLModel, table=True):
    """A columnar results file committed to a job (``domain.results_file``): the manifest of
    the results store. A worker writes a chunk's file under a unique name; it is part of the
    job once its row is here. ``kind`` is ``chunk`` while the job runs and ``job`` for the one
    file a finished job is compacted into (its rows sorted best first)."""

    __tablename__ = "result_files"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job_id: uuid.UUID = Field(index=True)
    name: str = Field(max_length=80)
    kind: str = Field(default="chunk", max_length=10)
    rows: int = 0
    failed: int = 0
    bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class UsageRecord(SQLModel, table=True):
    """The usage ledger: one row per submitted job, kept when the job is deleted (no foreign
    key to the job). Written at submit (the combinations asked for, the storage reserved) and
    when the job ends (combinations run, compute seconds, bytes stored); a deleted job's
    stored bytes drop to 0. Quotas and ``GET /usage`` read only this table."""

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_owner_created", "owner_id", "created_at"),
        Index("ix_usage_strategy_ended", "strategy", "ended_at"),
    )

    job_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id")
    strategy: str = Field(max_length=100)
    dataset_rows: int = 0
    combinations: int = 0  # asked for at submit
    combinations_run: int | None = None  # finished + failed, once the job ended
    compute_seconds: float = 0.0
    stored_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    ended_at: datetime | None = _ts()


class UserQuota(SQLModel, table=True):
    """Per-user quotas set by an admin; a null field means the deployment's default."""

    __tablename__ = "user_quotas"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="users.id")
    live_jobs: int | None = None
    combinations_per_day: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    stored_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    worker_share: float | None = None
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

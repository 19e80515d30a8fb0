"""The one settings object. Every knob is an environment variable with the OPTIMIZER_ prefix."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "change-me-development-only-secret-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPTIMIZER_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    database_url: str | None = None
    artifact_dir: Path | None = None
    # The results store: every combination's results as columnar files, one folder per job.
    # With remote workers it must be storage they share with the orchestrator and the web
    # server, like the artifact store (default: <data dir>/results).
    results_dir: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True

    # UI
    poll_interval_ms: int = Field(1000, ge=100, le=60_000)

    # Jobs
    grid_cap: int = Field(10_000_000, ge=1)
    export_batch_size: int = Field(500, ge=1)
    max_live_jobs_per_user: int = Field(5, ge=1)
    upload_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    # Quotas per user (an admin may set other values for one user; 0 means no limit). Live
    # jobs are queued or running ones; combinations are counted per UTC day; stored bytes are
    # results and artifacts of the user's jobs plus uploaded datasets; the worker share is the
    # fraction of worker capacity one user's jobs may take while another user's work waits.
    quota_combinations_per_day: int = Field(100_000_000, ge=0)  # ten jobs of the largest grid
    quota_stored_bytes: int = Field(10 * 1024**3, ge=0)
    quota_worker_share: float = Field(1.0, gt=0, le=1)
    # Users who see everyone's usage and set per-user quotas (comma-separated emails).
    admin_emails: str = ""
    # Finished jobs older than this many days are deleted by the orchestrator (off: unset).
    retention_days: float | None = Field(None, gt=0)

    # Execution
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    dask_address: str | None = None
    run_orchestrator: bool = True
    lease_seconds: float = Field(15.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    chunk_target_seconds: float = Field(0.5, gt=0)
    # A chunk not back this many seconds after it was sent fails its combinations as
    # ``timeout`` (chunks are sized to ~chunk_target_seconds of work).
    chunk_timeout_seconds: float = Field(300.0, gt=0)

    # Metrics shared by the web and orchestrator processes (prometheus_client multiprocess
    # mode); scripts/run.sh points it at a private folder in memory (tmpfs), off the data disk.
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )

    # Security
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_lifetime_seconds: int = Field(12 * 3600, ge=60)
    jwt_issuer: str = "grid-optimizer"
    jwt_audience: str = "grid-optimizer-api"
    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19 * 1024, ge=8)
    argon2_parallelism: int = Field(1, ge=1)
    # Sign-in: password hashing runs in a pool of this many threads (off the event loop), and
    # failed sign-ins are throttled per account and per client address over a sliding window.
    password_hash_workers: int = Field(2, ge=1, le=64)
    login_max_failures: int = Field(10, ge=1)
    login_max_failures_per_address: int = Field(50, ge=1)
    login_window_seconds: float = Field(15 * 60, gt=0)

    # Request limits: JSON (and any non-upload) bodies, values per parameter in a param space.
    max_json_bytes: int = Field(1024 * 1024, ge=1024)
    max_param_values: int = Field(10_000, ge=1)
    # Origins allowed to call the backend from a browser (comma-separated). Empty: no other
    # origin (the app's pages are same-origin), except the dev frontend in development.
    cors_origins: str = ""

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32:
                raise ValueError(
                    "OPTIMIZER_JWT_SECRET must be set to a random value of at least 32 characters "
                    "outside development (scripts/run.sh generates one in the data folder)"
                )
            if self.argon2_memory_kib < 19 * 1024 or self.argon2_time_cost < 2:
                raise ValueError("argon2 cost below the OWASP minimum (19 MiB, 2 iterations)")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'optimizer.db').resolve()}"

    @cached_property
    def resolved_artifact_dir(self) -> Path:
        return (self.artifact_dir or self.data_dir / "artifacts").resolve()

    @cached_property
    def resolved_results_dir(self) -> Path:
        return (self.results_dir or self.data_dir / "results").resolve()

    @cached_property
    def upload_dir(self) -> Path:
        return (self.data_dir / "datasets").resolve()

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def admin_email_set(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


settings = Settings()

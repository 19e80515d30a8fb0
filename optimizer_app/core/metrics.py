"""Prometheus metrics (exposed at GET /metrics).

The orchestrator runs in its own process, so when ``PROMETHEUS_MULTIPROC_DIR`` is set (as
``scripts/run.sh`` does) every process writes its samples there and ``render_latest`` merges
them; without it, this process's registry is served."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from optimizer_app.core.config import settings

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_WAIT = Histogram(
    "queue_wait_seconds",
    "Time from submit to the first chunk running",
    registry=REGISTRY,
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
JOB_EXEC = Histogram(
    "job_exec_seconds",
    "Time from the first chunk running to a terminal status",
    registry=REGISTRY,
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
TASKS_FINISHED = Counter("tasks_finished_total", "Tasks finished successfully", registry=REGISTRY)
TASKS_FAILED = Counter("tasks_failed_total", "Tasks that failed", registry=REGISTRY)
JOBS_TERMINAL = Counter(
    "jobs_terminal_total", "Jobs reaching a terminal status", ["status"], registry=REGISTRY
)
JOBS_LIVE = Gauge(
    "jobs_running",
    "Jobs currently held by orchestrators",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
EXPORT_SECONDS = Histogram(
    "export_seconds",
    "Export bundle generation time",
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
EXPORT_FAILURES = Counter("export_failures_total", "Failed exports", ["cause"], registry=REGISTRY)
LOGIN_FAILURES = Counter(
    "login_failures_total", "Sign-ins refused for a wrong email or password", registry=REGISTRY
)
LOGIN_THROTTLED = Counter(
    "login_throttled_total",
    "Sign-ins refused (429) after too many failures, by limit (account or address)",
    ["scope"],
    registry=REGISTRY,
)
REQUESTS_REFUSED = Counter(
    "http_requests_refused_total",
    "Requests refused before their body was read (body too large, media type, no session)",
    ["reason"],
    registry=REGISTRY,
)

QUOTA_REFUSALS = Counter(
    "quota_refusals_total",
    "Submits refused (429 quota_exceeded), by quota",
    ["quota"],
    registry=REGISTRY,
)


def render_latest() -> bytes:
    """The Prometheus text exposition of every process's metrics."""
    if settings.prometheus_multiproc_dir is None:
        return generate_latest(REGISTRY)
    merged = CollectorRegistry()
    MultiProcessCollector(merged, path=str(settings.prometheus_multiproc_dir))
    return generate_latest(merged)

"""The orchestrator is its own process: its metrics must still reach GET /metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
from optimizer_app.core.metrics import JOB_EXEC, QUEUE_WAIT, TASKS_FAILED, TASKS_FINISHED
TASKS_FINISHED.inc(1200)
TASKS_FAILED.inc(3)
QUEUE_WAIT.observe(0.4)
JOB_EXEC.observe(2.5)
"""

SCRAPE = """
from fastapi.testclient import TestClient
from optimizer_app.api.main import create_api
print(TestClient(create_api()).get("/metrics").text)
"""


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )
    return done.stdout


def test_metrics_of_another_process_are_served(tmp_path: Path, migrated_db: str) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(RECORD, env)  # e.g. the orchestrator
    text = _python(SCRAPE, env)  # the web process
    assert "tasks_finished_total 1200.0" in text
    assert "tasks_failed_total 3.0" in text
    assert "queue_wait_seconds_count 1.0" in text
    assert "job_exec_seconds_sum 2.5" in text

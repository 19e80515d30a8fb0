"""Server time of the full-grid heatmap on a large job.

    python benchmarks/heatmap.py             # a 1,014,104-combination job, 5 runs per axis pair
    python benchmarks/heatmap.py --quick     # a 101,816-combination job, 3 runs

A new temporary data folder (SQLite, migrated) gets one job of ``rsi_reversion`` whose task
rows are written as the orchestrator writes them (parameters and metrics as JSON, one row per
combination, about one in twenty without a score as if failing a result constraint). Then
``services.heatmap.get_heatmap`` (the grid rebuild, the aggregation in
``persistence.tasks.best_by_pair`` and the cells) is timed for each pair of axes, the first
call (grid not cached yet) and the best of the following runs, and the JSON response size is
printed. Target: under 300 ms for 1,000,000 combinations.

"cold" reads every scored row (the aggregation's cost on SQLite is reading ~1,000,000 rows
through the driver); "axis switch" is a call for the same job whose rows are still kept
(``best_by_pair``'s ``stamp``): only the aggregation and the cells."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(tempfile.mkdtemp(prefix="optimizer-heatmap-"))
os.environ.update(
    OPTIMIZER_DATA_DIR=str(DATA),
    OPTIMIZER_ENV="test",
    OPTIMIZER_LOG_LEVEL="WARNING",
    OPTIMIZER_RUN_ORCHESTRATOR="false",
)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from alembic.config import Config  # noqa: E402

from alembic import command  # noqa: E402
from optimizer_app.core.config import settings  # noqa: E402
from optimizer_app.domain.grid import build_grid  # noqa: E402
from optimizer_app.domain.jsontext import metric_lines  # noqa: E402
from optimizer_app.domain.stats import METRIC_KEYS  # noqa: E402
from optimizer_app.orchestration.rows import params_json, task_rows  # noqa: E402
from optimizer_app.persistence import tasks as tasks_module  # noqa: E402
from optimizer_app.persistence.db import reset_engine, session_scope  # noqa: E402
from optimizer_app.persistence.models import OptimizationJob, TaskStatus, User  # noqa: E402
from optimizer_app.persistence.tasks import insert_tasks, timestamp_text  # noqa: E402
from optimizer_app.services.bootstrap import ensure_bundled_datasets  # noqa: E402
from optimizer_app.services.heatmap import get_heatmap  # noqa: E402

LOWER = {"start": 1, "stop": 50, "step": 0.25}
UPPER = {"start": 50, "stop": 99, "step": 0.5}
SPACES = {
    "full": {"period": {"start": 2, "stop": 53, "step": 1}, "lower": LOWER, "upper": UPPER},
    "quick": {"period": {"start": 2, "stop": 7, "step": 1}, "lower": LOWER, "upper": UPPER},
}
AXES = (("lower", "upper"), ("period", "lower"), ("period", "upper"))
CHUNK = 50_000


def setup(space: dict) -> tuple[uuid.UUID, uuid.UUID, int]:
    """A migrated database holding one user and one job with every combination stored."""
    settings.__dict__["resolved_database_url"] = f"sqlite:///{DATA / 'optimizer.db'}"
    reset_engine()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = settings.resolved_database_url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    grid = build_grid("rsi_reversion", space, cap=2_000_000)
    with session_scope() as session:
        dataset = ensure_bundled_datasets(session=session)[0]
        user = User(email="bench@example.com", password_hash="x")
        session.add(user)
        session.flush()
        job = OptimizationJob(
            owner_id=user.id, name="heatmap bench", strategy="rsi_reversion",
            dataset_id=dataset.id, param_space=space, status="succeeded",
            early_stop_policy={"mode": "max", "metric": "sharpe", "topN": 10},
            summary={"total": grid.total, "finished": grid.total},
        )
        session.add(job)
        session.flush()
        owner, job_id = user.id, job.id
    rng = np.random.default_rng(7)
    now = timestamp_text(job.created_at, dialect="sqlite")
    for start in range(0, grid.total, CHUNK):
        indices = np.arange(start, min(start + CHUNK, grid.total), dtype=np.int64)
        metrics = {key: rng.normal(size=len(indices)) for key in METRIC_KEYS}
        scores = metrics["sharpe"].tolist()
        for k in range(0, len(scores), 20):
            scores[k] = None  # fails a result constraint: stored without a score
        batch = task_rows(job_id=job_id, indices=indices.tolist(),
                          params=params_json(grid, indices), status=TaskStatus.SUCCEEDED,
                          scores=scores, metrics=metric_lines(metrics, len(indices)).split("\n"),
                          attempts=1, error=None, started_at=now, finished_at=now)
        with session_scope() as session:
            insert_tasks(session=session, batch=batch)
    return owner, job_id, grid.total


def timed(owner: uuid.UUID, job_id: uuid.UUID, x: str, y: str) -> tuple[float, int, int]:
    """Milliseconds for one heatmap (service call and JSON), its cells and JSON bytes."""
    started = time.perf_counter()
    with session_scope(readonly=True) as session:
        heatmap = get_heatmap(session=session, owner_id=owner, job_id=job_id, x=x, y=y)
    body = heatmap.json()  # the REST body
    return (time.perf_counter() - started) * 1000, len(heatmap.cells), len(body)


def drop_cached_rows() -> None:
    """Forget the scored rows kept between calls: the next call reads them all again."""
    tasks_module._SCORED.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-combination job")
    args = parser.parse_args()
    space = SPACES["quick" if args.quick else "full"]
    runs = 3 if args.quick else 5
    started = time.perf_counter()
    owner, job_id, total = setup(space)
    print(f"{total:,} combinations stored in {time.perf_counter() - started:.1f} s")
    print("median ms over", runs, "runs; cold: every row read; axis switch: rows kept from "
          "the previous call of the same job")
    print(f"{'axes':<16} {'cold':>8} {'axis switch':>12} {'cells':>8} {'JSON bytes':>12}")
    for x, y in AXES:
        cold = []
        for _ in range(runs):
            drop_cached_rows()
            cold.append(timed(owner, job_id, x, y)[0])
        warm = [timed(owner, job_id, x, y) for _ in range(runs)]
        _, cells, size = warm[0]
        print(f"{x + ' × ' + y:<16} {statistics.median(cold):>8.0f} "
              f"{statistics.median(w[0] for w in warm):>12.0f} {cells:>8,} {size:>12,}")


if __name__ == "__main__":
    try:
        main()
    finally:
        reset_engine()
        shutil.rmtree(DATA, ignore_errors=True)  # ~500 MB for a million rows

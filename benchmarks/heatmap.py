"""Server time of the full-grid heatmap on a large job.

    python benchmarks/heatmap.py             # a 1,014,104-combination job, 5 runs per axis pair
    python benchmarks/heatmap.py --quick     # a 101,816-combination job, 3 runs

A new temporary data folder (SQLite, migrated) gets one job of ``rsi_reversion`` whose
results are written to the results store as the workers write them (one file per 65,536
combinations, about one in twenty without a score as if failing a result constraint). Then
``services.heatmap.get_heatmap`` (the grid rebuild, the aggregation behind
``persistence.tasks.best_by_pair`` and the cells) is timed for each pair of axes: while the
job's results are still per-chunk files ("running": DuckDB aggregates every row), and once the
job is compacted ("finished": its precomputed pair aggregates are read). The JSON response
size is printed. Target: under 300 ms for 1,000,000 combinations.

Every call is cold (no aggregate kept from an earlier call)."""

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
from optimizer_app.domain.results_file import chunk_table, write_table  # noqa: E402
from optimizer_app.domain.stats import METRIC_KEYS  # noqa: E402
from optimizer_app.orchestration.compaction import compact_job  # noqa: E402
from optimizer_app.persistence import results_store  # noqa: E402
from optimizer_app.persistence import tasks as tasks_module  # noqa: E402
from optimizer_app.persistence.db import reset_engine, session_scope  # noqa: E402
from optimizer_app.persistence.models import OptimizationJob, User  # noqa: E402
from optimizer_app.services.bootstrap import ensure_bundled_datasets  # noqa: E402
from optimizer_app.services.heatmap import get_heatmap  # noqa: E402

LOWER = {"start": 1, "stop": 50, "step": 0.25}
UPPER = {"start": 50, "stop": 99, "step": 0.5}
SPACES = {
    "full": {"period": {"start": 2, "stop": 53, "step": 1}, "lower": LOWER, "upper": UPPER},
    "quick": {"period": {"start": 2, "stop": 7, "step": 1}, "lower": LOWER, "upper": UPPER},
}
AXES = (("lower", "upper"), ("period", "lower"), ("period", "upper"))
CHUNK = 65_536


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
    settings.__dict__["resolved_results_dir"] = DATA / "results"
    rng = np.random.default_rng(7)
    order = rng.permutation(grid.total)  # chunks of a shuffled job
    for start in range(0, grid.total, CHUNK):
        indices = np.sort(order[start:start + CHUNK])
        metrics = {key: rng.normal(size=len(indices)) for key in METRIC_KEYS}
        metrics["trades"] = rng.integers(0, 50, len(indices))
        passes = np.ones(len(indices), dtype=bool)
        passes[::20] = False  # fails a result constraint: stored without a score
        table = chunk_table(indices=indices, params=grid.params_for(indices),
                            scores=metrics["sharpe"], passes=passes, metrics=metrics)
        name, size = write_table(table, results_store.job_dir(job_id))
        with session_scope() as session:
            results_store.add_file(session=session, job_id=job_id, name=name,
                                   rows=len(indices), failed=0, size=size)
    return owner, job_id, grid.total


def timed(owner: uuid.UUID, job_id: uuid.UUID, x: str, y: str) -> tuple[float, int, int]:
    """Milliseconds for one heatmap (service call and JSON), its cells and JSON bytes."""
    started = time.perf_counter()
    with session_scope(readonly=True) as session:
        heatmap = get_heatmap(session=session, owner_id=owner, job_id=job_id, x=x, y=y)
    body = heatmap.json()  # the REST body
    return (time.perf_counter() - started) * 1000, len(heatmap.cells), len(body)


def drop_cached_rows() -> None:
    """Forget the aggregates kept between calls: the next call computes them again."""
    tasks_module._CELLS.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-combination job")
    args = parser.parse_args()
    space = SPACES["quick" if args.quick else "full"]
    runs = 3 if args.quick else 5
    started = time.perf_counter()
    owner, job_id, total = setup(space)
    print(f"{total:,} combinations stored in {time.perf_counter() - started:.1f} s")
    print("median ms over", runs, "cold runs; running: per-chunk files; finished: compacted")
    print(f"{'axes':<16} {'running':>8} {'finished':>9} {'cells':>8} {'JSON bytes':>12}")
    live: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
    for x, y in AXES:
        live[(x, y)] = []
        for _ in range(runs):
            drop_cached_rows()
            live[(x, y)].append(timed(owner, job_id, x, y))
    compact_job(job_id)
    for x, y in AXES:
        done = []
        for _ in range(runs):
            drop_cached_rows()
            done.append(timed(owner, job_id, x, y))
        _, cells, size = done[0]
        print(f"{x + ' × ' + y:<16} {statistics.median(r[0] for r in live[(x, y)]):>8.0f} "
              f"{statistics.median(r[0] for r in done):>9.0f} {cells:>8,} {size:>12,}")


if __name__ == "__main__":
    try:
        main()
    finally:
        reset_engine()
        shutil.rmtree(DATA, ignore_errors=True)

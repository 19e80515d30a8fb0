"""End-to-end job throughput on the embedded default, against the pure engine.

    python benchmarks/jobs.py            # 10,000, 100,000 and 198,753 combinations, 3 runs each
    python benchmarks/jobs.py --quick    # 10,000 combinations, 1 run

Each run gets a new temporary data folder (SQLite, migrated) and its own orchestrator process
(``python -m optimizer_app.orchestration``, as ``scripts/run.sh`` starts it, with its local Dask
workers), warmed up with a one-combination job (run and compacted). Jobs are submitted through
the service layer and timed from submit to a terminal status. In the same run, ``evaluate_grid``
evaluates the same grid in this process on one core. Printed per size: medians of wall time,
combinations/s, the ratio to the pure engine, queue wait, and the orchestrator process's peak
RSS while the job ran and was compacted (sampled every 20 ms; that process also hosts the
local Dask scheduler, not the workers or the child that compacts a large job)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(tempfile.mkdtemp(prefix="optimizer-bench-"))
os.environ.update(
    OPTIMIZER_DATA_DIR=str(DATA),
    OPTIMIZER_ENV="test",
    OPTIMIZER_LOG_LEVEL="WARNING",
    OPTIMIZER_RUN_ORCHESTRATOR="false",
)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlmodel import select  # noqa: E402

from alembic import command  # noqa: E402
from optimizer_app.core.config import settings  # noqa: E402
from optimizer_app.domain.datasets import load_bundled_bars  # noqa: E402
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid  # noqa: E402
from optimizer_app.domain.grid import build_grid  # noqa: E402
from optimizer_app.persistence.db import reset_engine, session_scope  # noqa: E402
from optimizer_app.persistence.models import (  # noqa: E402
    LIVE_STATUSES,
    OptimizationJob,
    ResultFile,
    User,
)
from optimizer_app.services.bootstrap import ensure_bundled_datasets  # noqa: E402
from optimizer_app.services.optimizations import submit_job  # noqa: E402
from optimizer_app.services.schemas import JobCreate  # noqa: E402

STRATEGY = "rsi_reversion"
LOWER = {"start": 1, "stop": 50, "step": 1}
UPPER = {"start": 50, "stop": 90, "step": 1}
SPACES = {  # rsi_reversion, lower < upper
    10_000: {"period": {"start": 2, "stop": 6, "step": 1}, "lower": LOWER, "upper": UPPER},
    100_000: {"period": {"start": 2, "stop": 50, "step": 1}, "lower": LOWER, "upper": UPPER},
    200_000: {"period": {"start": 2, "stop": 98, "step": 1}, "lower": LOWER, "upper": UPPER},
    1_000_000: {"period": {"start": 2, "stop": 100, "step": 1},  # 960,498
                "lower": {"start": 1, "stop": 49.5, "step": 0.5},
                "upper": {"start": 50, "stop": 99, "step": 0.5}},
}
WARMUP = {"period": {"values": [14]}, "lower": {"values": [30]}, "upper": {"values": [70]}}
POLICY = {"mode": "max", "metric": "sharpe", "topN": 10}


@dataclass
class Run:
    wall: float
    queue_wait: float
    peak_rss_mb: float
    status: str
    store_bytes: int = 0  # the job's results file once compacted
    db_bytes: int = 0  # the SQLite database (and its WAL) after the job


class RssSampler:
    """Peak resident memory of one process (not its worker children), sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


class ScaleOut:
    """PostgreSQL, a ``dask scheduler`` and one single-threaded ``dask worker`` per configured
    worker, started as separate processes on loopback (as the README's scale-out steps)."""

    def __init__(self) -> None:
        from tests.support.postgres import free_port, start_postgres, unavailable_reason

        reason = unavailable_reason()
        if reason:
            raise SystemExit(f"scale-out benchmark needs PostgreSQL: {reason}")
        self.postgres = start_postgres()
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "DASK_CONFIG": str(ROOT / "optimizer_app" / "orchestration" / "dask.yaml")}
        dask = str(Path(sys.executable).parent / "dask")
        self.procs = [subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-dashboard"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)]
        self.procs += [subprocess.Popen(
            [dask, "worker", self.address, "--nthreads", "1", "--no-dashboard",
             "--host", "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) for _ in range(settings.workers)]
        self.databases = 0

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def new_database(self) -> str:
        self.databases += 1
        return str(self.postgres.create_database(f"bench_{os.getpid()}_{self.databases}"))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)
        self.postgres.stop()


SCALE_OUT: ScaleOut | None = None  # --backend scaleout


def fresh_data_dir() -> tuple[Path, object, object]:
    """A new data folder with a migrated database, the bundled datasets and one user."""
    data = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))
    settings.__dict__["resolved_database_url"] = (
        SCALE_OUT.new_database() if SCALE_OUT else f"sqlite:///{data / 'optimizer.db'}")
    settings.__dict__["resolved_results_dir"] = data / "results"  # as the orchestrator's
    settings.__dict__["resolved_artifact_dir"] = data / "artifacts"
    reset_engine()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = settings.resolved_database_url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    with session_scope() as session:
        dataset = ensure_bundled_datasets(session=session)[0]
        user = User(email="bench@example.com", password_hash="x")
        session.add(user)
        session.flush()
        return data, user.id, dataset.id


def start_orchestrator(data: Path) -> subprocess.Popen[bytes]:
    log = open(data / "orchestrator.log", "wb")  # noqa: SIM115
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPTIMIZER_DATA_DIR": str(data)}
    if SCALE_OUT:
        env.update(OPTIMIZER_DATABASE_URL=settings.resolved_database_url,
                   OPTIMIZER_DASK_ADDRESS=SCALE_OUT.address)
    return subprocess.Popen([sys.executable, "-m", "optimizer_app.orchestration"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)


ORDER = "shuffled"  # the product's default; --order sequential for index order


def measured_run(space: dict) -> Run:
    data, owner_id, dataset_id = fresh_data_dir()
    orchestrator = start_orchestrator(data)
    try:
        # cluster up, kernels compiled, one job compacted: the orchestrator as it runs for long
        compacted_bytes(run_job(owner_id, dataset_id, WARMUP, orchestrator.pid))
        with RssSampler(orchestrator.pid) as whole:  # the job and its compaction
            run = run_job(owner_id, dataset_id, space, orchestrator.pid)
            run.store_bytes = compacted_bytes(run)
        run.peak_rss_mb = whole.peak / 2**20
        run.db_bytes = (sum(f.stat().st_size for f in data.glob("optimizer.db*"))
                        if SCALE_OUT is None else 0)
        return run
    finally:
        orchestrator.terminate()
        orchestrator.wait(timeout=60)


def run_job(owner_id: object, dataset_id: object, space: dict, pid: int,
            policy: dict | None = None) -> Run:
    body = JobCreate(strategy=STRATEGY, dataset_id=dataset_id, param_space=space,
                     early_stop_policy=policy or POLICY, grid_order=ORDER)
    live = {s.value for s in LIVE_STATUSES}
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        with session_scope() as session:
            job = submit_job(session=session, owner_id=owner_id, body=body)  # type: ignore[arg-type]
        while True:
            with session_scope(readonly=True) as session:
                row = session.get(OptimizationJob, job.id)
                assert row is not None
                if row.status not in live:
                    break
            time.sleep(0.02)
        wall = time.perf_counter() - started
    run = Run(wall, row.queue_wait_seconds or 0.0, sampler.peak / 2**20, row.status)
    run.job_id = job.id  # type: ignore[attr-defined]
    return run


def compacted_bytes(run: Run, timeout: float = 120.0) -> int:
    """Bytes of the job's results once the orchestrator compacted them (its rows best first,
    in index order, and the pair aggregates)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(readonly=True) as session:
            files = session.exec(select(ResultFile).where(
                ResultFile.job_id == run.job_id)).all()  # type: ignore[attr-defined]
        if any(f.kind == "job" for f in files):  # compacted: the job's files, all kinds
            return int(sum(f.bytes for f in files))
        time.sleep(0.1)
    raise TimeoutError("the job's results were not compacted")


def pure_engine_seconds(space: dict) -> float:
    bars = load_bundled_bars("goog-daily")
    grid = build_grid(STRATEGY, space, cap=10_000_000)
    params = grid.params_for(np.arange(grid.total))
    options = BacktestOptions()
    evaluate_grid(bars, STRATEGY, grid.params_for(np.arange(64)), options)  # compile
    started = time.perf_counter()
    evaluate_grid(bars, STRATEGY, params, options)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 combinations, one run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--order", choices=["shuffled", "sequential"], default="shuffled",
                        help="the jobs' grid order (default: shuffled, as submitted jobs are)")
    parser.add_argument("--size", type=int, choices=sorted(SPACES), help="one grid size only")
    parser.add_argument("--backend", choices=["embedded", "scaleout"], default="embedded",
                        help="scaleout: PostgreSQL and a Dask scheduler with separate workers")
    args = parser.parse_args()
    global ORDER, SCALE_OUT
    ORDER = args.order
    if args.backend == "scaleout":
        SCALE_OUT = ScaleOut()
    try:
        _measure(args)
    finally:
        if SCALE_OUT:
            SCALE_OUT.stop()


def _measure(args: argparse.Namespace) -> None:
    sizes = ([10_000] if args.quick else [args.size] if args.size
             else [10_000, 100_000, 200_000, 1_000_000])
    runs = 1 if args.quick else args.runs

    print(f"workers: {settings.workers}; grid order: {ORDER}; backend: {args.backend}; "
          f"data in {DATA}")
    print("ratio: wall / the pure engine on one core; parallel: wall / (that / workers); "
          "B/comb: bytes per combination in the results store (compacted) and in SQLite")
    print(f"{'combinations':>12} {'wall s':>8} {'comb/s':>9} {'engine s':>9} "
          f"{'ratio':>6} {'parallel':>8} {'queue s':>8} {'peak MB':>8} {'store B':>8} "
          f"{'db B':>6}")
    for size in sizes:
        space = SPACES[size]
        total = build_grid(STRATEGY, space, cap=10_000_000).total
        results = [measured_run(space) for _ in range(runs)]
        assert all(r.status == "succeeded" for r in results), results
        engine = statistics.median(pure_engine_seconds(space) for _ in range(runs))
        wall = statistics.median(r.wall for r in results)
        ideal = engine / settings.workers
        print(f"{total:>12,} {wall:>8.2f} {total / wall:>9,.0f} {engine:>9.2f} "
              f"{wall / engine:>6.1f} {wall / ideal:>8.2f} "
              f"{statistics.median(r.queue_wait for r in results):>8.2f} "
              f"{statistics.median(r.peak_rss_mb for r in results):>8.0f} "
              f"{statistics.median(r.store_bytes for r in results) / total:>8.1f} "
              f"{statistics.median(r.db_bytes for r in results) / total:>6.1f}", flush=True)


if __name__ == "__main__":
    main()

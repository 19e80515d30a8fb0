"""Results at scale: storage per combination and reads of a large finished job.

    python benchmarks/storage.py                 # a 9,528,084-combination job, 5 timings each
    python benchmarks/storage.py --size 1000000  # a smaller one

Runs one real job end to end on the embedded default (SQLite, its own orchestrator process
and local workers, as ``benchmarks/jobs.py`` does), waits until the orchestrator compacted
its results, then times — in this process, through the same service functions the API
routes call, medians and p95 of several calls — a ``/tasks`` page (50 rows) at several
offsets sorted by score and by index, the full-grid heatmap aggregate of two parameters,
the export of the Top-100, and the submit of a grid of that size. Printed: bytes per
combination in the results store and in SQLite, each timing, and this process's resident
memory before and after the reads."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from benchmarks.jobs import (  # noqa: E402
    STRATEGY,
    compacted_bytes,
    fresh_data_dir,
    run_job,
    start_orchestrator,
)
from optimizer_app.core.config import settings  # noqa: E402
from optimizer_app.persistence import results_store  # noqa: E402
from optimizer_app.persistence.db import session_scope  # noqa: E402
from optimizer_app.services import export, history  # noqa: E402
from optimizer_app.services.optimizations import submit_job  # noqa: E402
from optimizer_app.services.schemas import JobCreate  # noqa: E402

SPACES = {
    1_000_000: {"period": {"start": 2, "stop": 100, "step": 1},  # 960,498
                "lower": {"start": 1, "stop": 49.5, "step": 0.5},
                "upper": {"start": 50, "stop": 99, "step": 0.5}},
    10_000_000: {"period": {"start": 2, "stop": 100, "step": 1},  # 9,528,084
                 "lower": {"start": 1, "stop": 49.75, "step": 0.25},
                 "upper": {"start": 50, "stop": 99, "step": 0.1}},
}
POLICY = {"mode": "max", "metric": "sharpe", "topN": 100}
PAGE = 50


def timed(call, runs: int) -> tuple[float, float]:
    """Median and p95 (the slowest of fewer than 20) in milliseconds."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))]
    return statistics.median(seconds) * 1000, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, choices=sorted(SPACES), default=10_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timings per read")
    args = parser.parse_args()
    settings.__dict__["grid_cap"] = max(settings.grid_cap, args.size)
    space = SPACES[args.size]

    data, owner_id, dataset_id = fresh_data_dir()
    orchestrator = start_orchestrator(data)
    try:
        started = time.perf_counter()
        run = run_job(owner_id, dataset_id, space, orchestrator.pid, policy=POLICY)
        wall = time.perf_counter() - started
        store_bytes = compacted_bytes(run)
    finally:
        orchestrator.terminate()
        orchestrator.wait(timeout=60)
    job_id = run.job_id  # type: ignore[attr-defined]
    db_bytes = sum(f.stat().st_size for f in data.glob("optimizer.db*"))
    with session_scope(readonly=True) as session:
        total = results_store.job_results(session=session, job_id=job_id).rows
    print(f"job: {total:,} combinations of {STRATEGY}, {run.status} in {wall:.1f} s "
          f"(orchestrator peak {run.peak_rss_mb:.0f} MB)")
    print(f"storage: results store {store_bytes / total:.1f} B/combination "
          f"({store_bytes / 2**20:.1f} MiB), SQLite {db_bytes / total:.2f} B/combination")

    process = psutil.Process()
    rss_before = process.memory_info().rss

    def tasks(offset: int, sort: str) -> None:
        with session_scope(readonly=True) as session:
            page = history.list_tasks(session=session, owner_id=owner_id, job_id=job_id,
                                      limit=PAGE, offset=offset, sort=sort)  # type: ignore[arg-type]
        assert len(page.data) == min(PAGE, total - offset)

    print(f"{'read':<44} {'median ms':>10} {'p95 ms':>8}")
    for sort in ("score", "index"):
        for offset in (0, total // 100, total // 2, total - PAGE):
            median, p95 = timed(lambda o=offset, s=sort: tasks(o, s), args.runs)
            print(f"{f'/tasks sorted by {sort}, offset {offset:,}':<44} {median:>10.1f} "
                  f"{p95:>8.1f}", flush=True)

    def heatmap() -> None:
        with session_scope(readonly=True) as session:
            files = results_store.job_results(session=session, job_id=job_id)
        cells = results_store.best_by_pair(files, "lower", "upper", maximize=True)
        assert cells

    median, p95 = timed(heatmap, args.runs)
    print(f"{'full-grid aggregate (lower x upper)':<44} {median:>10.1f} {p95:>8.1f}")

    def export_top() -> None:
        with session_scope(readonly=True) as session:
            bundle = export.build_export(session=session, owner_id=owner_id, job_id=job_id)
        assert bundle.members

    median, p95 = timed(export_top, args.runs)
    print(f"{'export of the Top-100':<44} {median:>10.1f} {p95:>8.1f}")

    def submit() -> None:
        body = JobCreate(strategy=STRATEGY, dataset_id=dataset_id, param_space=space,
                         early_stop_policy=POLICY)
        with session_scope() as session:
            submit_job(session=session, owner_id=owner_id, body=body)  # type: ignore[arg-type]

    median, p95 = timed(submit, 3)
    print(f"{'submit of a grid this size':<44} {median:>10.1f} {p95:>8.1f}")
    rss_after = process.memory_info().rss
    print(f"this process: {rss_before / 2**20:.0f} MB before the reads, "
          f"{rss_after / 2**20:.0f} MB after (+{(rss_after - rss_before) / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()

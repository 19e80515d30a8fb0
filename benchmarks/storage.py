"""Results at scale: storage per combination and reads of a large finished job.

    python benchmarks/storage.py                 # a 9,528,084-combination job, 5 timings each
    python benchmarks/storage.py --size 1000000  # a smaller one

Runs one real job end to end on the embedded default (SQLite, its own orchestrator process
and local workers, as ``benchmarks/jobs.py`` does), waits until the orchestrator compacted
its results, then times — in this process, through the same service functions the API
routes call, medians and p95 of several calls — a ``/tasks`` page (50 rows) at several
offsets sorted by score and by index, the full-grid heatmap aggregate of two parameters,
the export of the Top-100, and the submit of a grid of that size. Printed: bytes per
combination in the results store and in SQLite, each timing, and the memory both processes
hold for the job's size: the orchestrator's peak while it runs and compacts the job, and this
(reading) process's resident memory after all the reads — each against the same after a
8,019-combination job run and read first (the baseline)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from benchmarks.jobs import (  # noqa: E402
    STRATEGY,
    RssSampler,
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


SMALL = {"period": {"start": 2, "stop": 100, "step": 1},  # 8,019: the memory baseline
         "lower": {"start": 5, "stop": 45, "step": 5}, "upper": {"start": 55, "stop": 95, "step": 5}}


def run_and_compact(owner_id: Any, dataset_id: Any, space: dict, pid: int) -> Any:
    """The job, submit to terminal, and its compaction; the orchestrator's peak over both."""
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        run = run_job(owner_id, dataset_id, space, pid, policy=POLICY)
        run.wall = time.perf_counter() - started
        run.store_bytes = compacted_bytes(run)
    run.peak_rss_mb = sampler.peak / 2**20
    return run


def read_everything(owner_id: Any, job_id: Any, total: int, runs: int, *,
                    show: bool) -> None:
    """Every read the routes make, timed (and printed when ``show``)."""
    def tasks(offset: int, sort: str) -> None:
        with session_scope(readonly=True) as session:
            page = history.list_tasks(session=session, owner_id=owner_id, job_id=job_id,
                                      limit=PAGE, offset=offset, sort=sort)  # type: ignore[arg-type]
        assert len(page.data) == min(PAGE, total - offset)

    def line(what: str, call: Any, times: int = runs) -> None:
        median, p95 = timed(call, times)
        if show:
            print(f"{what:<44} {median:>10.1f} {p95:>8.1f}", flush=True)

    if show:
        print(f"{'read':<44} {'median ms':>10} {'p95 ms':>8}")
    for sort in ("score", "index"):
        for offset in (0, total // 100, total // 2, total - PAGE):
            line(f"/tasks sorted by {sort}, offset {offset:,}",
                 lambda o=offset, s=sort: tasks(o, s))

    def heatmap() -> None:
        with session_scope(readonly=True) as session:
            files = results_store.job_results(session=session, job_id=job_id)
        cells = results_store.best_by_pair(files, "lower", "upper", maximize=True)
        assert cells

    line("full-grid aggregate (lower x upper)", heatmap)

    def export_top() -> None:
        with session_scope(readonly=True) as session:
            bundle = export.build_export(session=session, owner_id=owner_id, job_id=job_id)
        assert bundle.members

    line("export of the Top-100", export_top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, choices=sorted(SPACES), default=10_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timings per read")
    args = parser.parse_args()
    settings.__dict__["grid_cap"] = max(settings.grid_cap, args.size)
    space = SPACES[args.size]
    process = psutil.Process()

    data, owner_id, dataset_id = fresh_data_dir()
    orchestrator = start_orchestrator(data)
    try:
        # The baseline: the same orchestrator and reading process after an 8,019-combination
        # job, so that what follows is the cost of the size alone.
        small = run_and_compact(owner_id, dataset_id, SMALL, orchestrator.pid)
        small_total = run_total(small)
        read_everything(owner_id, small.job_id, small_total, args.runs, show=False)
        rss_small = process.memory_info().rss
        run = run_and_compact(owner_id, dataset_id, space, orchestrator.pid)
    finally:
        orchestrator.terminate()
        orchestrator.wait(timeout=60)
    job_id = run.job_id
    db_bytes = sum(f.stat().st_size for f in data.glob("optimizer.db*"))
    total = run_total(run)
    print(f"job: {total:,} combinations of {STRATEGY}, {run.status} in {run.wall:.1f} s")
    print(f"storage: results store {run.store_bytes / total:.1f} B/combination "
          f"({run.store_bytes / 2**20:.1f} MiB), SQLite {db_bytes / total:.2f} B/combination")
    print(f"orchestrator peak (the job and its compaction): {small.peak_rss_mb:.0f} MB for "
          f"{small_total:,} combinations, {run.peak_rss_mb:.0f} MB for {total:,} "
          f"({run.peak_rss_mb - small.peak_rss_mb:+.0f} MB)")

    read_everything(owner_id, job_id, total, args.runs, show=True)

    def submit() -> None:
        body = JobCreate(strategy=STRATEGY, dataset_id=dataset_id, param_space=space,
                         early_stop_policy=POLICY)
        with session_scope() as session:
            submit_job(session=session, owner_id=owner_id, body=body)  # type: ignore[arg-type]

    median, p95 = timed(submit, 3)
    print(f"{'submit of a grid this size':<44} {median:>10.1f} {p95:>8.1f}")
    rss_after = process.memory_info().rss
    print(f"reading process: {rss_small / 2**20:.0f} MB after every read of the "
          f"{small_total:,}-combination job, {rss_after / 2**20:.0f} MB after every read of "
          f"this one ({(rss_after - rss_small) / 2**20:+.0f} MB)")


def run_total(run: Any) -> int:
    with session_scope(readonly=True) as session:
        return results_store.job_results(session=session, job_id=run.job_id).rows


if __name__ == "__main__":
    main()

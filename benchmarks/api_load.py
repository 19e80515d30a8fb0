"""Load benchmark of the status poll: GET /api/v1/optimizations/{id}/status.

Starts the API (uvicorn serving ``create_api()`` on a free loopback port) and, when it exists,
the job orchestrator (``python -m optimizer_app.orchestration``) on a temporary data folder;
registers a user, submits a ~100,000-combination job, then has N concurrent clients poll its
status for a fixed time. Prints client-side p50/p95/p99 latency, the server-side histogram's
p95 bound, throughput and errors.

    python benchmarks/api_load.py            # 50 clients, 30 s, each polling every second
    python benchmarks/api_load.py --quick    # 10 clients, 5 s, a 10,000-combination job
    python benchmarks/api_load.py --interval 0   # closed loop: every client polls flat out
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 20.0
STATUS_ROUTE = "/api/v1/optimizations/{id}/status"
TERMINAL = {"succeeded", "failed", "early-stopped", "canceled"}


@dataclass
class Results:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    errors: dict[str, int] = field(default_factory=dict)
    terminal_at: float | None = None  # first poll that saw the job terminal

    @property
    def latencies_ms(self) -> list[float]:
        return [ms for _, ms in self.samples]

    def while_live(self) -> list[float]:
        end = self.terminal_at if self.terminal_at is not None else float("inf")
        return [ms for sent, ms in self.samples if sent < end]

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZER_")}
    env.update(
        OPTIMIZER_ENV="development",
        OPTIMIZER_DATA_DIR=str(data_dir),
        OPTIMIZER_RUN_ORCHESTRATOR="false",
        OPTIMIZER_MAX_LIVE_JOBS_PER_USER="5",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(env: dict[str, str]) -> None:
    for command in (["alembic", "upgrade", "head"],
                    [sys.executable, "-m", "optimizer_app.services.bootstrap"]):
        if command[0] == "alembic":
            command = [sys.executable, "-m", "alembic", *command[1:]]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API did not become ready")


def job_body(dataset_id: str, quick: bool) -> dict[str, Any]:
    """rsi_reversion: 40 periods x 50 lower x 50 upper levels, lower < upper (99,960)."""
    periods = {"start": 2, "stop": 5 if quick else 41, "step": 1}
    return {
        "name": "load benchmark",
        "strategy": "rsi_reversion",
        "datasetId": dataset_id,
        "paramSpace": {"period": periods, "lower": {"start": 1, "stop": 50, "step": 1},
                       "upper": {"start": 50, "stop": 99, "step": 1}},
        "earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 10},
    }


def setup_job(base: str, quick: bool) -> tuple[dict[str, str], str, int]:
    with httpx.Client(base_url=base, timeout=30) as client:
        creds = {"email": "load@example.com", "password": "load-benchmark-password"}
        client.post("/api/v1/auth/register", json=creds).raise_for_status()
        token = client.post("/api/v1/auth/token", json=creds).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        dataset_id = client.get("/api/v1/datasets", headers=headers).json()["data"][0]["id"]
        job = client.post("/api/v1/optimizations", headers=headers,
                          json=job_body(dataset_id, quick))
        job.raise_for_status()
        return headers, job.json()["id"], job.json()["summary"]["total"]


async def poller(client: httpx.AsyncClient, url: str, headers: dict[str, str], deadline: float,
                 interval: float, results: Results) -> None:
    # Open pages poll on their own clocks: start each client at a random point of the period.
    await asyncio.sleep(random.uniform(0, interval))
    while (now := time.perf_counter()) < deadline:
        try:
            response = await client.get(url, headers=headers)
            elapsed = (time.perf_counter() - now) * 1000
            if response.status_code == 200:
                results.samples.append((now, elapsed))
                if results.terminal_at is None and response.json()["status"] in TERMINAL:
                    results.terminal_at = now
            else:
                results.error(f"HTTP {response.status_code}")
        except httpx.HTTPError as exc:
            results.error(type(exc).__name__)
        if interval > 0:
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - now)))


async def run_load(base: str, headers: dict[str, str], job_id: str, clients: int,
                   seconds: float, interval: float) -> Results:
    results = Results()
    url = f"{base}/api/v1/optimizations/{job_id}/status"
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(poller(client, url, headers, deadline, interval, results)
                               for _ in range(clients)))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def server_p95_bound(base: str) -> str:
    """The smallest histogram bucket holding 95% of the server-side status latencies."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    pattern = re.compile(
        r'http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",'
        r'route="' + re.escape(STATUS_ROUTE) + r'",status="200"\} (\S+)'
    )
    buckets = sorted(((float("inf") if le == "+Inf" else float(le)), float(count))
                     for le, count in pattern.findall(text))
    if not buckets or buckets[-1][1] == 0:
        return "n/a"
    total = buckets[-1][1]
    bound = next(le for le, count in buckets if count >= 0.95 * total)
    return f"<= {bound * 1000:g} ms" if bound != float("inf") else "> 10 s"


def job_progress(base: str, headers: dict[str, str], job_id: str) -> str:
    status = httpx.get(f"{base}/api/v1/optimizations/{job_id}/status", headers=headers).json()
    summary = status["summary"]
    done = f"{status['status']}, {summary['finished'] + summary['failed']}/{summary['total']} done"
    if status.get("execSeconds") is not None:
        done += f" in {status['execSeconds']:.1f} s (queue wait {status['queueWaitSeconds']:.1f} s)"
    return done


def print_latency(title: str, values: list[float]) -> float:
    p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
    print(f"{title}: p50 {p50:.2f}  p95 {p95:.2f}  p99 {p99:.2f}  max {max(values):.2f}  "
          f"mean {statistics.fmean(values):.2f}")
    return p95


def report(results: Results, seconds: float, clients: int, interval: float) -> bool:
    count = len(results.latencies_ms)
    errors = sum(results.errors.values())
    mode = f"every {interval:g} s" if interval > 0 else "closed loop"
    print(f"clients: {clients} ({mode}), duration: {seconds:g} s")
    print(f"requests: {count + errors} ({(count + errors) / seconds:.0f}/s), errors: {errors}"
          + (f" {results.errors}" if errors else ""))
    if not count:
        return False
    p95 = print_latency("latency ms (whole run)", results.latencies_ms)
    live = results.while_live()
    if live and len(live) < count:
        p95 = max(p95, print_latency(f"latency ms (while the job ran, {len(live)} polls)", live))
    ok = p95 <= TARGET_P95_MS and errors == 0
    print(f"target p95 <= {TARGET_P95_MS:g} ms and zero errors: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 clients, 5 s, smaller job")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between one client's polls (0: as fast as possible)")
    parser.add_argument("--orchestrator-nice", type=int, default=0,
                        help="start the orchestrator (and so its workers) at this niceness")
    parser.add_argument("--no-orchestrator", action="store_true",
                        help="do not start the orchestrator (the job stays queued)")
    args = parser.parse_args()
    clients = args.clients or (10 if args.quick else 50)
    seconds = min(args.seconds or (5.0 if args.quick else 30.0), 600.0)

    data_dir = Path(tempfile.mkdtemp(prefix="optimizer-load-"))
    env = environment(data_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        prepare(env)
        processes.append(start(
            [sys.executable, "-m", "uvicorn", "--factory", "optimizer_app.api.main:create_api",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
             "--log-level", "warning"], env, data_dir / "api.log"))
        wait_ready(base)
        has_orchestrator = (ROOT / "optimizer_app" / "orchestration" / "__main__.py").exists()
        if has_orchestrator and not args.no_orchestrator:
            nice = ["nice", "-n", str(args.orchestrator_nice)] if args.orchestrator_nice else []
            processes.append(start([*nice, sys.executable, "-m", "optimizer_app.orchestration"],
                                   env, data_dir / "orchestrator.log"))
        else:
            print("orchestrator: not started (the job stays queued)")
        before = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        headers, job_id, total = setup_job(base, args.quick)
        print(f"job {job_id}: {total:,} combinations")
        results = asyncio.run(run_load(base, headers, job_id, clients, seconds, args.interval))
        ok = report(results, seconds, clients, args.interval)
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average before {before}, after {load}")
        print(f"server-side p95 (histogram bucket): {server_p95_bound(base)}")
        print(f"job after the run: {job_progress(base, headers, job_id)}")
        return 0 if ok else 1
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

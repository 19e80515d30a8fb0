"""Many researchers at once, on the embedded default (SQLite, local workers).

Starts the app the way a user does (``./scripts/run.sh`` on a free port and a temporary data
folder, grid cap raised), registers 50 users, then per run:

1. **alone** — submits a ~1,000,000-combination job (a strategy and parameter space picked from
   ``GET /api/v1/strategies``) and times it from submit to a terminal status;
2. **under load** — submits the same job again and, while it runs:
   (a) 50 sign-ins at once (50 distinct users);
   (b) 20 users x 3 small-job submits at once (each user under the live-job limit);
   (c) 50 pages polling the job's ``/status`` once a second for 20 s;
   (d) ``/healthz`` polled every 0.1 s throughout;
   (e) the job's throughput, as a ratio to the same job alone.

Each page and each user is an HTTP client of its own (an aiohttp session), as separate
browsers are (one client shared by everything made every poll wait in its connection pool
behind the submits). A job's time is the app's own (its queue wait plus its run time, from its
status once terminal), so how often this client polls for the end does not change it. Before
each timed job the app is left to go idle (a finished job's results are compacted in the
background, which must not be charged to the next one). Besides the targets it prints the
status latency split by the burst under way when each poll was sent, the CPU seconds each
part of the app (web server, orchestrator, workers) and this client used while the job ran,
and the load's CPU: everything's CPU seconds while the job ran under load minus while it ran
alone, and the best ratio (e) that leaves on this machine's CPUs if the job alone kept them
all busy (alone / (alone + load CPU / CPUs)) — what the machine allows, next to what the app
got.

Prints each run, then the medians over the runs next to the targets, and stops the app
(SIGTERM to ``run.sh``'s process group, which stops the orchestrator and the web server).
Also times one password hash at the default Argon2 cost in this process. Every request goes
to 127.0.0.1; every loop is bounded in count and time.

    python benchmarks/concurrency.py                   # one run (quick)
    python benchmarks/concurrency.py --runs 3          # the README's figures
    python benchmarks/concurrency.py --combinations 200000
    python benchmarks/concurrency.py --skip ab         # only the pollers and /healthz
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import free_port, percentile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"
TERMINAL = {"succeeded", "failed", "early-stopped", "canceled"}
STARTUP_SECONDS = 900  # the first start builds the web frontend
STOP_SECONDS = 60
REQUEST_TIMEOUT = 60.0
JOB_TIMEOUT = 900.0

SIGN_INS = 50
SUBMITTERS, SUBMITS_EACH = 20, 3
POLLERS, POLL_SECONDS, POLL_INTERVAL = 50, 20.0, 1.0
HEALTH_INTERVAL = 0.1

TARGET_SIGNIN_SLOWEST_S = 3.0
TARGET_SUBMIT_P95_MS = 500.0
TARGET_STATUS_P95_MS = 20.0
TARGET_HEALTH_P99_MS = 100.0
TARGET_THROUGHPUT_RATIO = 0.8

# Server-side latency histograms (GET /metrics) of the routes each scenario uses.
ROUTES = {
    "sign-in": ("POST", f"{API}/auth/token"),
    "submit": ("POST", f"{API}/optimizations"),
    "status": ("GET", f"{API}/optimizations/{{id}}/status"),
    "healthz": ("GET", "/healthz"),
}
BUCKET = re.compile(r"^http_request_duration_seconds_bucket\{(.*)\} (\S+)$", re.MULTILINE)
LABEL = re.compile(r'(\w+)="([^"]*)"')


# --- the simulated browsers' HTTP client ----------------------------------------------------------

# The pages and users are aiohttp sessions: on this 2-core machine the client shares the CPUs
# with the app, and httpx's async client took ~2.2-3 ms of CPU per request against aiohttp's
# ~0.5 ms (the same requests to /healthz, one after another), CPU the app's figures paid for.
CLIENT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass
class Answer:
    """A response read whole."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def new_session(base: str, *, connections: int = 100) -> aiohttp.ClientSession:
    """One browser: a session of its own (its own connections, kept alive)."""
    return aiohttp.ClientSession(
        base_url=base, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=connections))


async def fetch(session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> Answer:
    async with session.request(method, path, **kwargs) as response:
        return Answer(response.status, await response.read(), dict(response.headers))


# --- the app ---------------------------------------------------------------------------------

def app_environment(data_dir: Path, port: int, grid_cap: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZER_")}
    env.update(OPTIMIZER_PORT=str(port), OPTIMIZER_DATA_DIR=str(data_dir),
               OPTIMIZER_GRID_CAP=str(grid_cap), OPTIMIZER_QUOTA_COMBINATIONS_PER_DAY="0")
    return env


def start_app(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen([str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env,
                                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(process: subprocess.Popen[bytes], base: str, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_SECONDS:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"scripts/run.sh exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"/healthz did not answer within {STARTUP_SECONDS} s (log: {log})")


def stop_app(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to run.sh's process group (run.sh then stops the orchestrator, which runs in a
    session of its own); whatever it started and is still alive afterwards is ended by pid."""
    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        started = []
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(started, timeout=STOP_SECONDS)
    for child in alive:
        print(f"warning: {child.pid} still running after run.sh stopped; ending it")
        child.kill()


def role(process: psutil.Process) -> str:
    """Which part of the app a process is: the orchestrator, its workers (and compaction child),
    the web server, or other."""
    try:
        chain = [process, *process.parents()]
        lines = [" ".join(p.cmdline()) for p in chain]
    except psutil.Error:
        return "other"
    if "optimizer_app.orchestration" in lines[0]:
        return "orchestrator"
    if any("optimizer_app.orchestration" in line for line in lines[1:]):
        return "workers"
    if any("reflex" in line for line in lines):
        return "web server"
    return "other"


def cpu_seconds(root: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of every process under ``root`` and of this one."""
    found: dict[int, tuple[str, float]] = {}
    try:
        processes = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        processes = []
    for process in [*processes, psutil.Process()]:
        try:
            times = process.cpu_times()
            name = "benchmark client" if process.pid == os.getpid() else role(process)
            found[process.pid] = (name, times.user + times.system)
        except psutil.Error:
            continue
    return found


def cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
             ) -> dict[str, float]:
    """CPU seconds per role between two snapshots (processes that ended in between are lost)."""
    used: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        used[name] = used.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    return used


async def settle_cpu(app_pid: int, timeout: float = 120.0, every: float = 0.5,
                     busy: float = 0.3, quiet_for: float = 3.0) -> float:
    """Wait until the app is idle (all its processes together below ``busy`` of one CPU for
    ``quiet_for`` seconds in a row), so that each measured job starts from the same quiet
    state: a finished job's results are compacted in the background, starting up to 2 s after
    its terminal status, and that work must not be charged to the next job. Returns the seconds
    waited."""
    started = time.perf_counter()
    last = cpu_seconds(app_pid)
    quiet_since = time.perf_counter()
    while time.perf_counter() - started < timeout:
        await asyncio.sleep(every)
        now = cpu_seconds(app_pid)
        used = sum(v for k, v in cpu_used(last, now).items() if k != "benchmark client")
        last = now
        if used >= busy * every:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet_for:
            break
    return time.perf_counter() - started


# --- workload ----------------------------------------------------------------------------------

@dataclass
class User:
    email: str
    password: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_user(tag: str) -> User:
    return User(f"{tag}-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(16))


def retrying(send: Any, attempts: int = 5) -> httpx.Response:
    """After a 429 (throttling) wait its Retry-After (at most 5 s) and send again."""
    response = send()
    for _ in range(attempts - 1):
        if response.status_code != 429:
            break
        time.sleep(min(5.0, float(response.headers.get("Retry-After") or 1)))
        response = send()
    return response


def register_and_sign_in(client: httpx.Client, user: User) -> User:
    body = {"email": user.email, "password": user.password}
    created = retrying(lambda: client.post(f"{API}/auth/register", json=body))
    if created.status_code != 201:
        raise RuntimeError(f"register: {created.status_code} {created.text[:300]}")
    token = retrying(lambda: client.post(f"{API}/auth/token", json=body))
    if token.status_code != 200:
        raise RuntimeError(f"sign-in: {token.status_code} {token.text[:300]}")
    user.token = token.json()["accessToken"]
    return user


def grid_of_size(strategies: list[dict[str, Any]], combinations: int
                 ) -> tuple[str, dict[str, Any], int]:
    """A strategy without a constraint and with a float parameter: every int parameter over its
    whole range, the first float parameter stepped finely enough for ``combinations``, other
    floats at their default. Returns (strategy, paramSpace, expected combinations)."""
    for strategy in strategies:
        floats = [p for p in strategy["params"] if p["type"] == "float"]
        if strategy.get("constraint") or not floats:
            continue
        ints = [p for p in strategy["params"] if p["type"] == "int"]
        across = math.prod(int(p["max"]) - int(p["min"]) + 1 for p in ints)
        fine = floats[0]
        low, high = Decimal(str(fine["min"])), Decimal(str(fine["max"]))
        wanted = max(2, math.ceil(combinations / across))
        step = ((high - low) / (wanted - 1)).quantize(Decimal("0.000001"), rounding=ROUND_UP)
        count = int((high - low) / step) + 1
        space: dict[str, Any] = {}
        for p in strategy["params"]:
            if p["type"] == "int":
                space[p["name"]] = {"start": p["min"], "stop": p["max"], "step": 1}
            elif p is fine:
                space[p["name"]] = {"start": float(low), "stop": float(low + step * (count - 1)),
                                    "step": float(step)}
            else:
                space[p["name"]] = {"values": [p["default"]]}
        return strategy["name"], space, across * count
    raise RuntimeError("no strategy without a constraint has a float parameter")


def small_space(strategies: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """20 combinations: the first int parameter over 20 values from its default."""
    params = next(s for s in strategies if s["name"] == name)["params"]
    space: dict[str, Any] = {p["name"]: {"values": [p["default"]]} for p in params}
    first = next(p for p in params if p["type"] == "int")
    start = min(int(first["default"]), int(first["max"]) - 19)
    space[first["name"]] = {"start": start, "stop": start + 19, "step": 1}
    return space


def upload_repeated(client: httpx.Client, owner: User, dataset_id: str, times: int
                    ) -> dict[str, Any]:
    """The dataset's bars ``times`` times end to end, uploaded by ``owner``: each repetition
    scaled to start where the last one ended, on consecutive business days ending on the
    series' own last day."""
    import numpy as np

    text = client.get(f"{API}/datasets/{dataset_id}/csv", headers=owner.headers).text
    lines = [line.split(",") for line in text.strip().splitlines()[1:]]
    prices = np.array([[float(v) for v in row[1:5]] for row in lines])
    volume = [row[5] for row in lines]
    day = np.busday_offset(np.datetime64(lines[-1][0], "D"), -(times * len(lines) - 1),
                           roll="backward")
    rows, scale = ["date,open,high,low,close,volume"], 1.0
    for _ in range(times):
        for k, (o, h, low, c) in enumerate(prices * scale):
            rows.append(f"{day},{o:.4f},{h:.4f},{low:.4f},{c:.4f},{volume[k]}")
            day = np.busday_offset(day, 1, roll="forward")
        scale *= prices[-1, 3] / prices[0, 0]
    response = client.post(
        f"{API}/datasets", headers=owner.headers,
        files={"file": ("repeated.csv", ("\n".join(rows) + "\n").encode(), "text/csv")},
        data={"name": f"GOOG daily x{times}", "symbol": f"GOOGx{times}"})
    response.raise_for_status()
    return dict(response.json())


def job_body(name: str, strategy: str, dataset_id: str, space: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "strategy": strategy, "datasetId": dataset_id, "paramSpace": space,
            "earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 10}}


# --- one run -----------------------------------------------------------------------------------

@dataclass
class Run:
    total: int = 0
    alone_s: float = 0.0
    loaded_s: float = 0.0
    signin_ok: int = 0
    signin_slowest_s: float = 0.0
    signin_errors: dict[str, int] = field(default_factory=dict)
    submit_errors: int = 0
    submit_error_kinds: dict[str, int] = field(default_factory=dict)
    submit_ms: list[float] = field(default_factory=list)
    status_ms: list[float] = field(default_factory=list)
    status_live_ms: list[float] = field(default_factory=list)
    status_at: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    status_errors: int = 0
    health_ms: list[float] = field(default_factory=list)
    health_errors: int = 0
    live_during: dict[str, bool] = field(default_factory=dict)
    server_p95: dict[str, str] = field(default_factory=dict)
    client_lag_ms: list[float] = field(default_factory=list)
    load_before: str = ""
    cpu_s: dict[str, float] = field(default_factory=dict)
    settled_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    steal_pct: dict[str, float] = field(default_factory=dict)  # CPU time taken by the host
    # CPU seconds of every process (the app's and this client) from each timed job's submit
    # to the poll that saw it end: alone, and under load.
    alone_cpu_s: float = 0.0
    job_cpu_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.alone_s / self.loaded_s

    @property
    def load_cpu_s(self) -> float:
        """CPU seconds everything took while the job ran under load, beyond what it took while
        the same job ran alone: the load's share of the machine."""
        return self.job_cpu_s - self.alone_cpu_s

    @property
    def ratio_allowed(self) -> float:
        """The best ratio the load leaves on this machine's CPUs, if the job alone kept them
        all busy: the job's own work plus the load's CPU, spread over every CPU."""
        cpus = os.cpu_count() or 1
        return self.alone_s / (self.alone_s + max(0.0, self.load_cpu_s) / cpus)


def histograms(text: str) -> dict[str, dict[float, float]]:
    """Per scenario: upper bound -> cumulative count (all statuses summed)."""
    wanted = {route: name for name, route in ROUTES.items()}
    found: dict[str, dict[float, float]] = {}
    for labels, value in BUCKET.findall(text):
        tags = dict(LABEL.findall(labels))
        name = wanted.get((tags.get("method", ""), tags.get("route", "")))
        if name is None:
            continue
        le = float("inf") if tags["le"] == "+Inf" else float(tags["le"])
        found.setdefault(name, {})
        found[name][le] = found[name].get(le, 0.0) + float(value)
    return found


def p95_bounds(before: dict[str, dict[float, float]], after: dict[str, dict[float, float]]
               ) -> dict[str, str]:
    """The smallest histogram bucket holding 95% of the requests between two scrapes."""
    bounds = {}
    for name, buckets in after.items():
        diff = sorted((le, n - before.get(name, {}).get(le, 0.0)) for le, n in buckets.items())
        total = diff[-1][1] if diff else 0.0
        if total <= 0:
            continue
        bound = next(le for le, n in diff if n >= 0.95 * total)
        bounds[name] = f"<= {bound * 1000:g} ms" if bound != float("inf") else "> 10 s"
    return bounds


async def scrape(client: aiohttp.ClientSession) -> dict[str, dict[float, float]]:
    try:
        return histograms((await fetch(client, "GET", "/metrics")).text)
    except CLIENT_ERRORS:
        return {}


class Stolen:
    """The share of the CPUs' time the hypervisor gave to other machines ("steal", Linux
    guests) from now to ``percent()``: this shared virtual machine's speed varies, and a job
    timed while much was stolen is slower for reasons outside the app."""

    def __init__(self) -> None:
        self._before = psutil.cpu_times()

    def percent(self) -> float:
        after = psutil.cpu_times()
        total = sum(after) - sum(self._before)
        stolen = getattr(after, "steal", 0.0) - getattr(self._before, "steal", 0.0)
        return 100.0 * stolen / total if total > 0 else 0.0


def count(kinds: dict[str, int], kind: str) -> None:
    kinds[kind] = kinds.get(kind, 0) + 1


async def timed(call: Any) -> tuple[float, Answer | Exception]:
    started = time.perf_counter()
    try:
        response = await call
    except CLIENT_ERRORS as exc:
        return (time.perf_counter() - started) * 1000, exc
    return (time.perf_counter() - started) * 1000, response


async def submit(client: aiohttp.ClientSession, user: User, body: dict[str, Any]) -> str:
    response = await fetch(client, "POST", f"{API}/optimizations", headers=user.headers,
                           json=body)
    if response.status_code != 201:
        raise RuntimeError(f"submit: {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])


async def wait_terminal(client: aiohttp.ClientSession, user: User, job_id: str, started: float,
                        every: float = 0.1) -> tuple[float, dict[str, Any]]:
    """The job's own seconds from submitted to ended, as the app measured them (its queue
    wait plus its run time: exact, however often this polls), once a poll sees it terminal
    (the seconds from ``started`` to that poll when the app gives no times)."""
    while time.perf_counter() - started < JOB_TIMEOUT:
        try:
            response = await fetch(client, "GET", f"{API}/optimizations/{job_id}/status",
                                   headers=user.headers)
            final = response.json() if response.status_code == 200 else {}
            if final.get("status") in TERMINAL:
                waited, ran = final.get("queueWaitSeconds"), final.get("execSeconds")
                if waited is None or ran is None:
                    return time.perf_counter() - started, final
                return float(waited) + float(ran), final
        except CLIENT_ERRORS:
            pass
        await asyncio.sleep(every)
    raise RuntimeError(f"job {job_id} not terminal after {JOB_TIMEOUT:g} s")


async def health_loop(client: aiohttp.ClientSession, stop: asyncio.Event, run: Run) -> None:
    deadline = time.perf_counter() + JOB_TIMEOUT
    while not stop.is_set() and time.perf_counter() < deadline:
        ms, answer = await timed(fetch(client, "GET", "/healthz"))
        if isinstance(answer, Answer) and answer.status_code == 200:
            run.health_ms.append(ms)
        else:
            run.health_errors += 1
        await asyncio.sleep(HEALTH_INTERVAL)


async def lag_loop(stop: asyncio.Event, run: Run, every: float = 0.01) -> None:
    """How late this (client) process's event loop wakes up: client-side latencies include it."""
    deadline = time.perf_counter() + JOB_TIMEOUT
    while not stop.is_set() and time.perf_counter() < deadline:
        started = time.perf_counter()
        await asyncio.sleep(every)
        run.client_lag_ms.append((time.perf_counter() - started - every) * 1000)


async def poller(client: aiohttp.ClientSession, user: User, job_id: str, run: Run,
                 live: asyncio.Event) -> None:
    await asyncio.sleep(random.uniform(0, POLL_INTERVAL))  # pages poll on their own clocks
    deadline = time.perf_counter() + POLL_SECONDS
    while (now := time.perf_counter()) < deadline:
        was_live = live.is_set()
        ms, answer = await timed(fetch(client, "GET", f"{API}/optimizations/{job_id}/status",
                                       headers=user.headers))
        if isinstance(answer, Answer) and answer.status_code == 200:
            run.status_ms.append(ms)
            run.status_at.append((now, ms))
            if was_live:
                run.status_live_ms.append(ms)
        else:
            run.status_errors += 1
        await asyncio.sleep(max(0.0, POLL_INTERVAL - (time.perf_counter() - now)))


async def sign_ins(clients: dict[str, aiohttp.ClientSession], users: list[User], run: Run
                   ) -> None:
    async def one(user: User) -> tuple[float, Answer | Exception]:
        return await timed(fetch(clients[user.email], "POST", f"{API}/auth/token",
                                 json={"email": user.email, "password": user.password}))

    for ms, answer in await asyncio.gather(*(one(u) for u in users)):
        run.signin_slowest_s = max(run.signin_slowest_s, ms / 1000)
        if isinstance(answer, Answer) and answer.status_code == 200:
            run.signin_ok += 1
        else:
            count(run.signin_errors, _kind(answer))


async def submits(clients: dict[str, aiohttp.ClientSession], users: list[User],
                  body: dict[str, Any], run: Run) -> dict[str, User]:
    async def one(user: User) -> tuple[float, Answer | Exception]:
        return await timed(fetch(clients[user.email], "POST", f"{API}/optimizations",
                                 headers=user.headers, json=body))

    owners = [u for u in users for _ in range(SUBMITS_EACH)]
    created = {}
    for owner, (ms, answer) in zip(owners, await asyncio.gather(*(one(u) for u in owners)),
                                   strict=True):
        run.submit_ms.append(ms)
        if isinstance(answer, Answer) and answer.status_code == 201:
            created[str(answer.json()["id"])] = owner
        else:
            run.submit_errors += 1
            count(run.submit_error_kinds, _kind(answer))
    return created


def _kind(answer: Answer | Exception) -> str:
    if isinstance(answer, Answer):
        locked = " database is locked" if "database is locked" in answer.text else ""
        return f"HTTP {answer.status_code}{locked}"
    return type(answer).__name__


async def watch(client: aiohttp.ClientSession, user: User, job_id: str, started: float,
                live: asyncio.Event, ended: Any = None) -> tuple[float, dict[str, Any]]:
    """``wait_terminal``, then ``ended()`` (at once, before anything else runs)."""
    try:
        return await wait_terminal(client, user, job_id, started)
    finally:
        live.clear()
        if ended is not None:
            ended()


async def settle(client: aiohttp.ClientSession, owners: dict[str, User], timeout: float = 300
                 ) -> None:
    """Wait until the small jobs are terminal (so the next run starts from a quiet app)."""
    deadline = time.perf_counter() + timeout
    pending = dict(owners)
    while pending and time.perf_counter() < deadline:
        for job_id, user in list(pending.items()):
            response = await fetch(client, "GET", f"{API}/optimizations/{job_id}/status",
                                   headers=user.headers)
            if response.status_code == 200 and response.json()["status"] in TERMINAL:
                del pending[job_id]
        await asyncio.sleep(0.5)
    if pending:
        print(f"warning: {len(pending)} small jobs still live after {timeout:g} s")


async def one_run(base: str, runner: User, users: list[User], big: dict[str, Any],
                  small: dict[str, Any], skip: str = "", app_pid: int = 0) -> Run:
    run = Run(load_before=", ".join(f"{v:.1f}" for v in os.getloadavg()))
    async with contextlib.AsyncExitStack() as stack:
        # Each page and each user is a client of its own (its own connections), as browsers
        # are: one shared client made every poll queue behind the submits in its pool.
        def new_client() -> aiohttp.ClientSession:
            return new_session(base)

        client = await stack.enter_async_context(new_session(base, connections=200))
        pages = [await stack.enter_async_context(new_client()) for _ in range(POLLERS)]
        browsers = {u.email: await stack.enter_async_context(new_client()) for u in users}
        monitor = await stack.enter_async_context(new_client())
        # Alone.
        run.settled_s.append(await settle_cpu(app_pid))
        started = time.perf_counter()
        stolen = Stolen()
        cpu_before = cpu_seconds(app_pid)
        job_id = await submit(client, runner, big)
        run.alone_s, final = await wait_terminal(client, runner, job_id, started)
        run.alone_cpu_s = sum(cpu_used(cpu_before, cpu_seconds(app_pid)).values())
        run.steal_pct["alone"] = stolen.percent()
        run.total = int(final["summary"]["total"])
        if final["status"] != "succeeded":
            raise RuntimeError(f"the job alone ended {final['status']}")

        # The same job again, under load.
        run.settled_s.append(await settle_cpu(app_pid))
        live = asyncio.Event()
        live.set()
        stop = asyncio.Event()
        scraped = await scrape(client)
        cpu_before = cpu_seconds(app_pid)
        stolen = Stolen()
        started = time.perf_counter()
        job_id = await submit(client, runner, big)

        def job_ended() -> None:
            run.job_cpu_s = sum(cpu_used(cpu_before, cpu_seconds(app_pid)).values())

        watcher = asyncio.create_task(watch(client, runner, job_id, started, live, job_ended))
        health = asyncio.create_task(health_loop(monitor, stop, run))
        lag = asyncio.create_task(lag_loop(stop, run))
        pollers = [asyncio.create_task(poller(page, runner, job_id, run, live))
                   for page in pages]
        await asyncio.sleep(1.0)
        if "a" not in skip:
            run.live_during["sign-ins start"] = live.is_set()
            begun = time.perf_counter()
            await sign_ins(browsers, users[:SIGN_INS], run)
            run.phases["sign-ins"] = (begun, time.perf_counter())
            run.live_during["sign-ins end"] = live.is_set()
            await asyncio.sleep(0.5)
        small_jobs: dict[str, User] = {}
        if "b" not in skip:
            run.live_during["submits start"] = live.is_set()
            begun = time.perf_counter()
            small_jobs = await submits(browsers, users[:SUBMITTERS], small, run)
            run.phases["submits"] = (begun, time.perf_counter())
            run.live_during["submits end"] = live.is_set()
        await asyncio.gather(*pollers)
        run.live_during["polling end"] = live.is_set()
        run.loaded_s, final = await watcher
        run.cpu_s = cpu_used(cpu_before, cpu_seconds(app_pid))
        run.steal_pct["under load"] = stolen.percent()
        run.wall_s = time.perf_counter() - started
        stop.set()
        await health
        await lag
        run.server_p95 = p95_bounds(scraped, await scrape(client))
        if final["status"] != "succeeded":
            raise RuntimeError(f"the job under load ended {final['status']}")
        await settle(client, small_jobs)
    return run


# --- report ------------------------------------------------------------------------------------

def hash_seconds() -> float:
    """One Argon2 hash at the default cost (the cost run.sh's production settings require)."""
    for key in [k for k in os.environ if k.startswith("OPTIMIZER_")]:
        del os.environ[key]
    sys.path.insert(0, str(ROOT))
    from optimizer_app.core.security import hash_password

    times = []
    for _ in range(5):
        started = time.perf_counter()
        hash_password(secrets.token_urlsafe(16))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pct(values: list[float], q: float) -> float:
    return percentile(values, q) if values else float("nan")


def describe(i: int, run: Run) -> None:
    live = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in run.live_during.items())
    print(f"run {i}: {run.total:,} combinations alone {run.alone_s:.2f} s "
          f"({run.total / run.alone_s:,.0f}/s), under load {run.loaded_s:.2f} s "
          f"({run.total / run.loaded_s:,.0f}/s), ratio {run.ratio:.3f}")
    if "sign-ins start" in run.live_during:
        print(f"  sign-ins: {run.signin_ok}/{SIGN_INS} 200, slowest {run.signin_slowest_s:.2f} s"
              + (f", errors {run.signin_errors}" if run.signin_errors else ""))
    if run.submit_ms:
        print(f"  submits: {run.submit_errors} errors"
              + (f" {run.submit_error_kinds}" if run.submit_errors else "")
              + f", p50 {pct(run.submit_ms, 50):.0f} ms, p95 {pct(run.submit_ms, 95):.0f} ms, "
              f"max {max(run.submit_ms):.0f} ms")
    print(f"  status polls: {len(run.status_ms)} ok, {run.status_errors} errors, "
          f"p50 {pct(run.status_ms, 50):.1f} / p95 {pct(run.status_ms, 95):.1f} / "
          f"p99 {pct(run.status_ms, 99):.1f} ms; while the job ran ({len(run.status_live_ms)}): "
          f"p95 {pct(run.status_live_ms, 95):.1f} ms")
    if run.phases:
        print("  status p95 by what else happened when the poll was sent: " + ", ".join(
            f"{name} {pct(values, 95):.1f} ms ({len(values)})"
            for name, values in by_phase(run).items() if values))
    print(f"  healthz: {len(run.health_ms)} ok, {run.health_errors} errors, "
          f"p50 {pct(run.health_ms, 50):.1f} / p99 {pct(run.health_ms, 99):.1f} ms, "
          f"max {max(run.health_ms, default=float('nan')):.1f} ms")
    server = ", ".join(f"{k} {v}" for k, v in run.server_p95.items()) or "n/a"
    print(f"  server-side p95 (histogram bucket, under load): {server}; this client's event "
          f"loop woke late by p95 {pct(run.client_lag_ms, 95):.1f} / "
          f"max {max(run.client_lag_ms, default=float('nan')):.1f} ms")
    if run.cpu_s:
        spent = ", ".join(f"{name} {seconds:.1f}" for name, seconds in
                          sorted(run.cpu_s.items(), key=lambda item: -item[1]))
        print(f"  CPU seconds while the job ran under load ({run.wall_s:.1f} s wall, "
              f"{os.cpu_count()} CPUs): {spent}; the app was idle again "
              + " and ".join(f"{s:.1f} s" for s in run.settled_s)
              + " after the warm-up and the job alone")
    if run.job_cpu_s:
        print(f"  the load took {run.load_cpu_s:.1f} CPU-s while the job ran (everything: "
              f"{run.alone_cpu_s:.1f} alone, {run.job_cpu_s:.1f} under load, to the job's end): "
              f"on {os.cpu_count()} CPUs that allows a ratio of at most "
              f"{run.ratio_allowed:.3f}")
    stolen = ", ".join(f"{k} {v:.1f}%" for k, v in run.steal_pct.items())
    print(f"  job still running at: {live}; load average at the start: {run.load_before}; "
          f"CPU time stolen by the host (steal): {stolen or 'n/a'}", flush=True)


def by_phase(run: Run) -> dict[str, list[float]]:
    """Status latencies split by the burst under way when each poll was sent (else "quiet":
    only the job, the other pollers and the health checks)."""
    split: dict[str, list[float]] = {name: [] for name in run.phases}
    split["quiet"] = []
    for sent, ms in run.status_at:
        name = next((n for n, (a, b) in run.phases.items() if a <= sent <= b), "quiet")
        split[name].append(ms)
    return split


def median(values: list[float]) -> float:
    return statistics.median(values)


def summary(runs: list[Run], hash_s: float, skip: str = "") -> bool:
    n = len(runs)
    signin_all = all(r.signin_ok == SIGN_INS for r in runs)
    slowest = median([r.signin_slowest_s for r in runs])
    submit_errors = median([r.submit_errors for r in runs])
    submit_p50 = median([pct(r.submit_ms, 50) for r in runs])
    submit_p95 = median([pct(r.submit_ms, 95) for r in runs])
    status = [median([pct(r.status_ms, q) for r in runs]) for q in (50, 95, 99)]
    status_errors = median([r.status_errors for r in runs])
    health_p99 = median([pct(r.health_ms, 99) for r in runs])
    health_errors = median([r.health_errors for r in runs])
    alone = median([r.total / r.alone_s for r in runs])
    loaded = median([r.total / r.loaded_s for r in runs])
    ratio = median([r.ratio for r in runs])
    allowed = median([r.ratio_allowed for r in runs])
    rows: list[tuple[str, str, str, bool]] = [
        (f"(a) {SIGN_INS} sign-ins at once",
         f"{'all' if signin_all else 'NOT all'} 200, slowest {slowest:.2f} s",
         f"all 200, slowest <= {TARGET_SIGNIN_SLOWEST_S:g} s",
         signin_all and slowest <= TARGET_SIGNIN_SLOWEST_S),
        (f"(b) {SUBMITTERS} users x {SUBMITS_EACH} submits",
         f"{submit_errors:g} errors, p50 {submit_p50:.0f} ms, p95 {submit_p95:.0f} ms",
         f"0 errors, p95 <= {TARGET_SUBMIT_P95_MS:g} ms",
         submit_errors == 0 and submit_p95 <= TARGET_SUBMIT_P95_MS),
        (f"(c) {POLLERS} status pollers, 1/s, {POLL_SECONDS:g} s",
         f"p50 {status[0]:.1f} / p95 {status[1]:.1f} / p99 {status[2]:.1f} ms"
         + (f", {status_errors:g} errors" if status_errors else ""),
         f"p95 <= {TARGET_STATUS_P95_MS:g} ms",
         status[1] <= TARGET_STATUS_P95_MS and status_errors == 0),
        ("(d) /healthz throughout",
         f"p99 {health_p99:.1f} ms" + (f", {health_errors:g} errors" if health_errors else ""),
         f"p99 <= {TARGET_HEALTH_P99_MS:g} ms",
         health_p99 <= TARGET_HEALTH_P99_MS and health_errors == 0),
        ("(e) big job under load / alone",
         f"{ratio:.3f}x ({loaded:,.0f} vs {alone:,.0f} combinations/s; "
         f"the load's CPU allows {allowed:.3f}x)",
         f">= {TARGET_THROUGHPUT_RATIO:g}x", ratio >= TARGET_THROUGHPUT_RATIO),
    ]
    for letter in skip:
        index = "ab".index(letter)
        rows[index] = (rows[index][0], "not run (--skip)", rows[index][2], True)
    print(f"\nmedians of {n} run{'s' if n != 1 else ''}; one Argon2 hash at the default cost: "
          f"{hash_s * 1000:.0f} ms")
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    head = ("scenario", "measured", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " | met")
    print("-+-".join("-" * w for w in widths) + "-+----")
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
              + f" | {'-' if row[1].startswith('not run') else 'yes' if row[3] else 'NO'}")
    return all(row[3] for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs (medians are reported)")
    parser.add_argument("--combinations", type=int, default=1_000_000,
                        help="size of the big job (default 1,000,000)")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the temporary data folder (database, logs)")
    parser.add_argument("--repeat-bars", type=int, default=1, metavar="K",
                        help="run the big job on the GOOG series repeated K times end to end "
                        "(uploaded by its owner): each combination then costs K times as much, "
                        "so the job runs about K times as long under the same load")
    parser.add_argument("--skip", default="", choices=["", "a", "b", "ab"],
                        help="leave out the sign-ins (a) and/or the submits (b), to see what "
                        "each costs the others")
    args = parser.parse_args()
    runs_wanted = max(1, min(args.runs, 20))
    combinations = max(1_000, min(args.combinations, 5_000_000))

    data_dir = Path(tempfile.mkdtemp(prefix="optimizer-concurrency-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data_dir / "app.log"
    grid_cap = max(2_000_000, 2 * combinations)
    hash_s = hash_seconds()
    print(f"one Argon2 hash (default cost, this process): {hash_s * 1000:.0f} ms")
    print(f"starting ./scripts/run.sh on {base}, data in {data_dir}", flush=True)
    before = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    process = start_app(app_environment(data_dir, port, grid_cap), log)
    try:
        print(f"/healthz answered after {wait_healthy(process, base, log):.1f} s", flush=True)
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
            runner = register_and_sign_in(client, new_user("runner"))
            users = [register_and_sign_in(client, new_user(f"researcher{i}"))
                     for i in range(max(SIGN_INS, SUBMITTERS))]
            strategies = client.get(f"{API}/strategies", headers=runner.headers).json()["data"]
            datasets = client.get(f"{API}/datasets", headers=runner.headers).json()["data"]
            # The bundled GOOG series, as the other benchmarks use (else the first dataset).
            dataset = next((d for d in datasets if d.get("symbol") == "GOOG"), datasets[0])
            big_dataset = dataset
            if args.repeat_bars > 1:
                big_dataset = upload_repeated(client, runner, dataset["id"], args.repeat_bars)
        strategy, space, expected = grid_of_size(strategies, combinations)
        big = job_body("big job", strategy, big_dataset["id"], space)
        # the other users' jobs: on the bundled series (an upload is its owner's alone)
        small = job_body("small job", strategy, dataset["id"], small_space(strategies, strategy))
        print(f"big job: {strategy} on {big_dataset['name']} ({big_dataset['rows']:,} bars), "
              f"{expected:,} combinations ({space})", flush=True)

        async def warm_up() -> None:  # worker processes up, kernels compiled
            async with new_session(base) as client:
                started = time.perf_counter()
                job_id = await submit(client, runner, small)
                await wait_terminal(client, runner, job_id, started)

        asyncio.run(warm_up())
        runs = []
        for i in range(1, runs_wanted + 1):
            runs.append(asyncio.run(one_run(base, runner, users, big, small, args.skip,
                                                process.pid)))
            describe(i, runs[-1])
        ok = summary(runs, hash_s, args.skip)
        after = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average before {before}, after {after}")
        return 0 if ok else 1
    finally:
        stop_app(process)
        print(f"app stopped (exit code {process.returncode})")
        if args.keep_data:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""A real HTTP server for tests with concurrent clients: the REST API (uvicorn serving
``create_api()``) and, optionally, the job orchestrator (``python -m optimizer_app.orchestration``)
as separate processes on one database, as ``scripts/run.sh`` runs them.

Settings are read at import, so the server cannot share the test process: it gets its own
environment (``OPTIMIZER_*`` variables of the test session are not inherited), with the
database URL, a private data folder and cheap password hashing. Every client request goes to
127.0.0.1."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
STARTUP_SECONDS = 90
STOP_SECONDS = 20


def server_env(database_url: str, data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTIMIZER_", "PYTEST_"))}
    env.update(
        OPTIMIZER_ENV="test",
        OPTIMIZER_DATA_DIR=str(data_dir),
        OPTIMIZER_DATABASE_URL=database_url,
        OPTIMIZER_ARGON2_MEMORY_KIB="1024",
        OPTIMIZER_ARGON2_TIME_COST="1",
        OPTIMIZER_RUN_ORCHESTRATOR="false",
        OPTIMIZER_WORKERS="1",
        OPTIMIZER_LOG_LEVEL="WARNING",
        PROMETHEUS_MULTIPROC_DIR=str(data_dir / "metrics"),
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class LiveApp:
    """The API (and orchestrator) processes; ``base_url`` is ``http://127.0.0.1:<port>``."""

    base_url: str
    database_url: str
    data_dir: Path
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log\n{_tail(self.data_dir / f'{name}.log')}"
                         for name, _ in self.processes)

    def alive(self) -> bool:
        return all(process.poll() is None for _, process in self.processes)

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _spawn(name: str, command: list[str], env: dict[str, str], data_dir: Path
           ) -> subprocess.Popen[bytes]:
    log = (data_dir / f"{name}.log").open("wb")
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def start_live_app(database_url: str, data_dir: Path, *, orchestrator: bool = True,
                   **overrides: str) -> LiveApp:
    """Bundled datasets registered, then the API and the orchestrator started; returns once
    ``/healthz`` answers 200. The database must be migrated already."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "metrics").mkdir(exist_ok=True)
    env = server_env(database_url, data_dir, **overrides)
    subprocess.run([sys.executable, "-m", "optimizer_app.services.bootstrap"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    app = LiveApp(f"http://127.0.0.1:{port}", database_url, data_dir)
    app.processes.append(("api", _spawn("api", [
        sys.executable, "-m", "uvicorn", "--factory", "optimizer_app.api.main:create_api",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ], env, data_dir)))
    if orchestrator:
        app.processes.append(("orchestrator", _spawn(
            "orchestrator", [sys.executable, "-m", "optimizer_app.orchestration"], env, data_dir)))
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not app.alive():
            app.stop()
            raise RuntimeError(f"a server process exited during start-up:\n{app.logs()}")
        try:
            if httpx.get(app.url("/healthz"), timeout=2).status_code == 200:
                return app
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"the API did not answer /healthz within {STARTUP_SECONDS} s:\n{app.logs()}")


# --- clients -----------------------------------------------------------------------------------

def strong_password() -> str:
    """Long and random: passes any strength or common-password check."""
    return secrets.token_urlsafe(16)


@dataclass
class Account:
    email: str
    password: str
    id: str = ""
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_account(prefix: str) -> Account:
    return Account(f"{prefix}-{uuid.uuid4().hex[:12]}@example.com", strong_password())


def _retrying(send: Callable[[], httpx.Response], attempts: int = 5) -> httpx.Response:
    """Send once more after a 429 (sign-in throttling), waiting its Retry-After (≤ 5 s)."""
    response = send()
    for _ in range(attempts - 1):
        if response.status_code != 429:
            break
        time.sleep(min(5.0, float(response.headers.get("Retry-After", "1") or 1)))
        response = send()
    return response


def register(client: httpx.Client, account: Account) -> Account:
    body = {"email": account.email, "password": account.password}
    created = _retrying(lambda: client.post(f"{API}/auth/register", json=body))
    assert created.status_code == 201, created.text
    account.id = created.json()["id"]
    return account


def sign_in(client: httpx.Client, account: Account) -> Account:
    body = {"email": account.email, "password": account.password}
    token = _retrying(lambda: client.post(f"{API}/auth/token", json=body))
    assert token.status_code == 200, token.text
    account.token = token.json()["accessToken"]
    return account


def at_once(calls: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run every call in its own thread, all released together by a barrier; results in order
    (an exception raised by a call is returned in its place)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001  (reported to the test, not lost)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"concurrent calls still running after {timeout:g} s")
    return results


class HealthWatch:
    """Polls ``/healthz`` from a thread (every ``every`` s, one request at a time) while the
    block runs; ``problems`` lists every answer that was not a 200 and every failed request."""

    def __init__(self, base_url: str, every: float = 0.2, timeout: float = 30) -> None:
        self.url = f"{base_url}/healthz"
        self.every = every
        self.timeout = timeout
        self.count = 0
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._answered = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz", daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url)
                    if response.status_code != 200:
                        self.problems.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.problems.append(f"{type(exc).__name__}: {exc}")
                self.count += 1
                self._answered.set()
                self._stop.wait(self.every)

    def __enter__(self) -> HealthWatch:
        """Starts watching, and returns once the first check has been answered: a block that
        ends sooner would otherwise leave no check at all (the thread had not started)."""
        self._thread.start()
        self._answered.wait(self.timeout)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)

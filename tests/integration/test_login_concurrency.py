"""Concurrent sign-ins against a real server (uvicorn serving the API on a free loopback port,
on the test SQLite database): every one succeeds, none is a 5xx, and the server keeps
answering other requests while the password hashes run.

Before: two simultaneous sign-ins gave one 200 after ~10 s and one `500 database is locked`
(Argon2 ran on the event loop inside a `BEGIN IMMEDIATE` transaction)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher

from optimizer_app.api.main import create_api
from optimizer_app.core import security
from optimizer_app.services.login_throttle import throttle

PASSWORD = "correct horse battery"
LOGINS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(migrated_db: str) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_api(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def production_cost_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost (19 MiB, 2 passes), so the hashes really take time."""
    hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", lambda: hasher)


def test_concurrent_sign_ins_all_succeed_and_the_server_stays_responsive(
    server_url: str, production_cost_hashing: None
) -> None:
    throttle.reset()
    emails = [f"c{uuid.uuid4().hex[:10]}@example.com" for _ in range(LOGINS)]
    with httpx.Client(base_url=server_url, timeout=60) as client:
        for email in emails:
            created = client.post("/api/v1/auth/register",
                                  json={"email": email, "password": PASSWORD})
            assert created.status_code == 201, created.text

    start = threading.Barrier(LOGINS + 1)
    running = threading.Event()
    health: list[tuple[float, int]] = []

    def sign_in(email: str) -> tuple[int, float, float]:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            start.wait()
            began = time.monotonic()
            response = client.post("/api/v1/auth/token",
                                   json={"email": email, "password": PASSWORD})
            return response.status_code, began, time.monotonic()

    def poll_health() -> None:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            start.wait()
            while running.is_set():
                response = client.get("/healthz")
                health.append((time.monotonic(), response.status_code))

    running.set()
    with ThreadPoolExecutor(max_workers=LOGINS + 1) as pool:
        poller = pool.submit(poll_health)
        results = list(pool.map(sign_in, emails))
        running.clear()
        poller.result()

    statuses = [status for status, _, _ in results]
    assert statuses == [200] * LOGINS, statuses
    first_start = min(began for _, began, _ in results)
    last_end = max(ended for _, _, ended in results)
    during = [status for at, status in health if first_start <= at <= last_end]
    assert during and set(during) == {200}, (during, last_end - first_start)

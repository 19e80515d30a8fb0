"""End-to-end harness: the whole app in production mode on a free port (``E2E_PORT`` picks
one) with a fresh database,
driven by Playwright in a real Chromium.

The app is started once per test session; every test gets a fresh browser context. A test fails
if the browser logged a console error or an uncaught page error."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from tests.e2e.helpers import ADMIN_EMAIL, Account, sign_up

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 180
SHUTDOWN_GRACE_SECONDS = 15
LOG_TAIL_LINES = 60
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")

expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class RunningApp:
    url: str
    data_dir: Path
    log_path: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _npm_registry() -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    result = subprocess.run(
        [npm, "config", "get", "registry"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def _ensure_bun(env: dict[str, str]) -> None:
    """Reflex builds the frontend with bun, installed from the npm registry by package.json."""
    if (REPO_ROOT / "node_modules" / ".bin" / "bun").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("bun is missing and npm is not installed: run `npm install` in the repo")
    subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=REPO_ROOT, env=env, check=True)


def _app_env(data_dir: Path, port: int) -> dict[str, str]:
    """The app's environment: the whole product (orchestrator included) on a private data dir.

    Settings meant for in-process tests (``OPTIMIZER_*`` from the test session) are not
    inherited; ``E2E_OPTIMIZER_<NAME>`` sets ``OPTIMIZER_<NAME>`` for the app. pytest's own
    variables are dropped too, since Reflex behaves differently when it sees them."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "OPTIMIZER_"))
    }
    env.update(
        OPTIMIZER_ENV="test",
        OPTIMIZER_DATA_DIR=str(data_dir),
        OPTIMIZER_HOST="127.0.0.1",
        OPTIMIZER_PORT=str(port),
        OPTIMIZER_ARGON2_MEMORY_KIB="1024",
        OPTIMIZER_ARGON2_TIME_COST="1",
        OPTIMIZER_WORKERS="1",
        OPTIMIZER_RUN_ORCHESTRATOR="true",
        # The history test queues a page and a half of tiny jobs at once.
        OPTIMIZER_MAX_LIVE_JOBS_PER_USER="30",
        # Big enough that the cancel test's job outlasts the clicks on any machine speed.
        OPTIMIZER_GRID_CAP="2000000",
        # No daily combinations quota by default (the usage test sets one user's).
        OPTIMIZER_QUOTA_COMBINATIONS_PER_DAY="0",
        # The usage test signs up as this administrator (every test user is new otherwise).
        OPTIMIZER_ADMIN_EMAILS=ADMIN_EMAIL,
        OPTIMIZER_LOG_LEVEL="INFO",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        REFLEX_DIR=str(REPO_ROOT / ".reflex-home"),
        BUN_INSTALL_CACHE_DIR=str(REPO_ROOT / ".bun-cache"),
        PATH=os.pathsep.join(
            [str(REPO_ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent)]
            + [env.get("PATH", "")]
        ),
    )
    env.update(
        {
            key.removeprefix("E2E_"): value
            for key, value in os.environ.items()
            if key.startswith("E2E_OPTIMIZER_")
        }
    )
    if "NPM_CONFIG_REGISTRY" not in env and (registry := _npm_registry()):
        env["NPM_CONFIG_REGISTRY"] = registry
    return env


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{_tail(log_path)}")
        if _answers(f"{base_url}/") and _answers(f"{base_url}/healthz"):
            return
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {STARTUP_TIMEOUT_SECONDS} s:\n{_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=SHUTDOWN_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app in production mode, migrated and seeded, on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    log_path = data_dir / "app.log"
    port = int(os.environ["E2E_PORT"]) if os.environ.get("E2E_PORT") else _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _app_env(data_dir, port)
    _ensure_bun(env)

    # The README's run command itself: migrations, bundled data, orchestrator, web server.
    run_cmd = [str(REPO_ROOT / "scripts" / "run.sh")]
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(run_cmd)}\n")
        log.flush()
        process = subprocess.Popen(
            run_cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        _wait_until_up(process, base_url, log_path)
        print(f"\napp up at {base_url} in {time.monotonic() - started:.1f} s (log: {log_path})")
        yield RunningApp(url=base_url, data_dir=data_dir, log_path=log_path)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def base_url(app_server: RunningApp) -> str:
    """Playwright resolves ``page.goto("/sign-in")`` against this."""
    return app_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def fail_on_browser_errors(page: Page) -> Iterator[None]:
    """Any console error or uncaught exception in the page fails the test."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def on_page_error(error: Error) -> None:
        problems.append(f"page error: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield
    if problems:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems))


@pytest.fixture
def signed_in_account(page: Page) -> Account:
    """A brand-new user, signed in, on the history page."""
    return sign_up(page)

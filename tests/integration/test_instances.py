"""Two ``scripts/run.sh`` from one checkout, on two ports with two data folders.

The first instance is started and up before the second starts (the order in which the second
used to rebuild the first one's frontend). Then: each serves its own API and pages, the
pages of the first still talk to the first, the starts changed no tracked file, the
metrics folders are private and off the data disk; finally SIGTERM stops the second within
10 s, SIGKILL of the first one's run.sh leaves no process of it running after a lease, and
Ctrl-C stops a third one within 10 s.

The tests share the two instances and run in file order (two of them stop them)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from optimizer_app.orchestration.__main__ import ORCHESTRATOR_NICENESS

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_SH = REPO_ROOT / "scripts" / "run.sh"
STARTUP_TIMEOUT_SECONDS = 180
STOP_LIMIT_SECONDS = 10.0
LEASE_SECONDS = 15.0  # settings.lease_seconds, the production default the instances run with
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
SOURCE_FOLDERS = ("optimizer_app/", "tests/", "alembic/", "benchmarks/", "docs/", "README.md")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process checks"),
]


@dataclass
class Instance:
    name: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    procs: list[psutil.Process] = field(default_factory=list)  # its processes once up
    run_dir: Path | None = None  # its private runtime folder
    email: str = field(default_factory=lambda: f"inst-{uuid.uuid4().hex[:10]}@example.com")
    password: str = field(default_factory=lambda: f"Grid-{uuid.uuid4().hex}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def child(self, command_part: str) -> psutil.Process:
        for proc in self.descendants():
            if command_part in " ".join(proc.cmdline()):
                return proc
        raise AssertionError(f"{self.name}: no process running {command_part!r}")

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _git_status() -> list[str]:
    """``git status --porcelain`` outside the source folders, which other work in the same
    checkout may be editing meanwhile (a start writes none of them; Reflex writes at the
    project root: ``reflex.lock/``, ``.gitignore``, ``requirements.txt``, ``assets/``)."""
    lines = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [line for line in lines if not line[3:].startswith(SOURCE_FOLDERS)]


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    """The production configuration run.sh gives itself; nothing of the test session's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "OPTIMIZER_", "REFLEX_", "PROMETHEUS_"))
    }
    env.update(
        OPTIMIZER_ENV="production",
        OPTIMIZER_DATA_DIR=str(data_dir),
        OPTIMIZER_HOST="127.0.0.1",
        OPTIMIZER_PORT=str(port),
        OPTIMIZER_WORKERS="1",
        OPTIMIZER_LOG_LEVEL="INFO",
    )
    return env


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _as_from_a_terminal() -> None:
    """run.sh's signals as a terminal's shell leaves them: none blocked, none ignored. A
    process inherits both across exec, and the test session's are not a terminal's: in a
    whole CI run something before these tests left SIGINT blocked in it, so run.sh, started
    from it, never saw Ctrl-C (reproduced by blocking SIGINT before pytest starts)."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


def _start(name: str, data_dir: Path) -> Instance:
    port = _free_port()
    log_path = data_dir / "run.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(RUN_SH)],
            cwd=REPO_ROOT,
            env=_environment(data_dir, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_as_from_a_terminal,
        )
    instance = Instance(name, port, data_dir, log_path, process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{instance.tail()}")
        if _answers(f"{instance.url}/healthz") and _answers(f"{instance.url}/"):
            instance.procs = instance.descendants()
            instance.run_dir = _run_dir(instance.child("reflex run"))
            return instance
        time.sleep(0.5)
    pytest.fail(f"{name} did not answer in {STARTUP_TIMEOUT_SECONDS} s:\n{instance.tail()}")


def _gone_within(procs: list[psutil.Process], seconds: float) -> tuple[float, list[str]]:
    """Seconds until every process exited (zombies count as exited), and the survivors."""
    started = time.monotonic()
    alive = list(procs)
    while alive and time.monotonic() - started < seconds:
        time.sleep(0.1)
        alive = [p for p in alive if _running(p)]
    took = time.monotonic() - started
    return took, [f"{p.pid} ({_state(p)}) {' '.join(p.cmdline())[:80]}" for p in alive]


def _state(proc: psutil.Process) -> str:
    """A survivor's state (e.g. ``disk-sleep``: waiting on the disk, deaf even to SIGKILL)."""
    try:
        return str(proc.status())
    except psutil.Error:
        return "gone"


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_all(instance: Instance) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(instance.process.pid, signal.SIGKILL)
    for proc in [*instance.procs, *instance.descendants()]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    instance.process.wait(timeout=10)
    if instance.run_dir is not None:
        shutil.rmtree(instance.run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def git_status_before() -> list[str]:
    return _git_status()


@pytest.fixture(scope="module")
def instances(
    git_status_before: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    started: list[Instance] = []
    try:
        for name in ("first", "second"):
            started.append(_start(name, tmp_path_factory.mktemp(f"instance-{name}")))
        yield started[0], started[1]
    finally:
        for instance in started:
            _kill_all(instance)


def _run_dir(proc: psutil.Process) -> Path | None:
    try:
        metrics = proc.environ().get("PROMETHEUS_MULTIPROC_DIR")
    except psutil.Error:
        return None
    return Path(metrics).parent if metrics else None


def _register_and_sign_in(instance: Instance) -> str:
    body = {"email": instance.email, "password": instance.password}
    registered = httpx.post(f"{instance.url}/api/v1/auth/register", json=body, timeout=30)
    assert registered.status_code == 201, registered.text
    token = httpx.post(f"{instance.url}/api/v1/auth/token", json=body, timeout=30)
    assert token.status_code == 200, token.text
    return str(token.json()["accessToken"])


def _list_jobs_status(instance: Instance, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(
        f"{instance.url}/api/v1/optimizations", headers=headers, timeout=30
    ).status_code


def test_each_instance_has_its_own_users_and_keys(instances: tuple[Instance, Instance]) -> None:
    first, second = instances
    first_token = _register_and_sign_in(first)
    second_token = _register_and_sign_in(second)
    assert _list_jobs_status(first, first_token) == 200
    assert _list_jobs_status(second, second_token) == 200
    assert _list_jobs_status(first, second_token) == 401  # another signing key
    assert _list_jobs_status(second, first_token) == 401


def test_metrics_folders_are_private_and_off_the_data_disk(
    instances: tuple[Instance, Instance],
) -> None:
    folders = []
    for instance in instances:
        for part in ("optimizer_app.orchestration", "reflex run"):
            metrics = Path(instance.child(part).environ()["PROMETHEUS_MULTIPROC_DIR"])
            assert metrics.is_dir()
            assert instance.data_dir not in metrics.parents
            assert REPO_ROOT not in metrics.parents
            folders.append(metrics)
        assert folders[-1] == folders[-2], "web server and orchestrator must share one folder"
        assert httpx.get(f"{instance.url}/metrics", timeout=30).status_code == 200
    assert folders[0] != folders[2], "two instances must not share a metrics folder"


def test_the_app_is_one_session_so_the_workers_niceness_counts(
    instances: tuple[Instance, Instance],
) -> None:
    """Linux shares the CPU between sessions (autogroups) before niceness: in a session of its
    own, the orchestrator's workers (niceness 10) got as much CPU as the web server. Every
    process of the app stays in run.sh's session, each child in a process group of its own
    (so a terminal's Ctrl-C reaches only run.sh)."""
    instance = instances[0]
    session = os.getsid(instance.process.pid)
    procs = instance.descendants()
    assert {os.getsid(p.pid) for p in procs} == {session}
    web, orchestrator = instance.child("reflex run"), instance.child("optimizer_app.orchestration")
    for child in (web, orchestrator):
        assert os.getpgid(child.pid) == child.pid != os.getpgid(instance.process.pid)
    workers = orchestrator.children(recursive=True)
    assert workers and max(p.nice() for p in workers) == 10
    assert web.nice() == 0
    assert orchestrator.nice() == ORCHESTRATOR_NICENESS  # between the two
    if Path("/proc/self/autogroup").exists():
        groups = {Path(f"/proc/{p.pid}/autogroup").read_text().split()[0] for p in procs}
        assert len(groups) == 1, groups


def test_the_first_instance_pages_talk_to_it_after_the_second_started(
    instances: tuple[Instance, Instance], browser_type: object
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/test.sh installs Debian's)")
    from playwright.sync_api import BrowserType, expect

    assert isinstance(browser_type, BrowserType)
    browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        for instance in instances:  # the first one first: its build is the older one
            page = browser.new_context().new_page()
            sockets: list[str] = []
            page.on("websocket", lambda ws, sockets=sockets: sockets.append(ws.url))
            page.goto(f"{instance.url}/sign-in")
            page.get_by_label("Email").fill(instance.email)
            page.get_by_label("Password").fill(instance.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="History", level=1)).to_be_visible(
                timeout=30_000
            )
            assert sockets, f"{instance.name}: the page opened no websocket"
            assert all(f"127.0.0.1:{instance.port}/" in url for url in sockets), sockets
            page.context.close()
    finally:
        browser.close()


def test_starts_change_no_tracked_file(
    instances: tuple[Instance, Instance], git_status_before: list[str]
) -> None:
    assert _git_status() == git_status_before


def test_sigterm_stops_every_process_within_10_seconds(
    instances: tuple[Instance, Instance],
) -> None:
    instance = instances[1]
    procs = [psutil.Process(instance.process.pid), *instance.descendants()]
    run_dir = instance.run_dir
    assert len(procs) >= 4, [p.cmdline() for p in procs]  # run.sh, web (2+), orchestrator, worker
    instance.process.send_signal(signal.SIGTERM)
    took, alive = _gone_within(procs, STOP_LIMIT_SECONDS + 5)
    print(f"\nSIGTERM: {len(procs)} processes gone in {took:.1f} s")
    assert not alive, alive
    assert took <= STOP_LIMIT_SECONDS
    assert run_dir is not None and not run_dir.exists(), "the runtime folder must be removed"


def test_sigkill_of_run_sh_leaves_nothing_running_after_a_lease(
    instances: tuple[Instance, Instance],
) -> None:
    instance = instances[0]
    children = instance.descendants()
    orchestrator = instance.child("optimizer_app.orchestration")
    assert orchestrator.children(recursive=True), "the orchestrator has worker processes"
    instance.process.send_signal(signal.SIGKILL)
    took, alive = _gone_within(children, LEASE_SECONDS + 5)
    print(f"\nSIGKILL of run.sh: {len(children)} processes gone in {took:.1f} s")
    assert not alive, alive
    assert took <= LEASE_SECONDS


def test_orchestrator_stops_by_itself_once_its_parent_is_gone(tmp_path: Path) -> None:
    """The portable watch (no PR_SET_PDEATHSIG involved): its parent shell is SIGKILLed."""
    from tests.conftest import migrate

    migrate(f"sqlite:///{tmp_path / 'optimizer.db'}")
    log_path = tmp_path / "orchestrator.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "OPTIMIZER_DATABASE_URL"},
        "OPTIMIZER_DATA_DIR": str(tmp_path),
        "OPTIMIZER_WORKERS": "1",
        "OPTIMIZER_LOG_LEVEL": "INFO",
    }
    script = f'"{sys.executable}" -m optimizer_app.orchestration --parent-pid $$ & wait'
    with log_path.open("ab") as log:
        shell = subprocess.Popen(
            ["bash", "-c", script],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "orchestrator started" not in log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            assert shell.poll() is None, log_path.read_text(errors="replace")
            time.sleep(0.2)
        procs = psutil.Process(shell.pid).children(recursive=True)
        shell.kill()
        shell.wait()
        took, alive = _gone_within(procs, LEASE_SECONDS + 5)
        print(f"\nparent gone: orchestrator and workers gone in {took:.1f} s")
        assert not alive, alive
        assert took <= LEASE_SECONDS
        assert "parent process gone: stopping" in log_path.read_text(errors="replace")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)


def test_ctrl_c_stops_every_process_within_10_seconds(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """What a terminal does on Ctrl-C: SIGINT to run.sh's whole foreground process group."""
    instance = _start("third", tmp_path_factory.mktemp("instance-third"))
    try:
        procs = [psutil.Process(instance.process.pid), *instance.procs]
        os.killpg(instance.process.pid, signal.SIGINT)
        took, alive = _gone_within(procs, STOP_LIMIT_SECONDS + 5)
        print(f"\nCtrl-C: {len(procs)} processes gone in {took:.1f} s")
        assert not alive, alive
        assert took <= STOP_LIMIT_SECONDS
        assert instance.process.wait(timeout=5) == 130
        assert instance.run_dir is not None and not instance.run_dir.exists()
    finally:
        _kill_all(instance)

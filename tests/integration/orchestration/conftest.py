"""The orchestration suite runs twice: ``embedded`` (a LocalCluster started by the executor,
SQLite) and ``scaleout`` (a ``dask scheduler`` and two ``dask worker`` processes on loopback,
PostgreSQL). One cluster per backend per session; each test gets the backend's database
switched in, and every job it left live is canceled afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import update

from optimizer_app.core.config import settings
from optimizer_app.orchestration.executor import Executor
from optimizer_app.persistence.db import reset_engine, session_scope
from optimizer_app.persistence.models import LIVE_STATUSES, OptimizationJob
from tests.conftest import ROOT, migrate
from tests.support.factories import bundled_dataset, make_user
from tests.support.postgres import free_port

DASK_YAML = ROOT / "optimizer_app" / "orchestration" / "dask.yaml"


@dataclass
class DaskProcesses:
    """A scheduler and workers started as separate processes, as a user would start them."""

    port: int
    workers: int
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DASK_CONFIG": str(DASK_YAML), "PYTHONPATH": str(ROOT)}

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "dask"), name, *args],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        return self._spawn(
            "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        return self._spawn(
            "worker", self.address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"
        )

    def start(self) -> DaskProcesses:
        self.start_scheduler()
        for _ in range(self.workers):
            self.start_worker()
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_workers(executor: Executor, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while executor.capacity(refresh=True) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {executor.capacity()} of {count} dask workers came up")
        time.sleep(0.2)


@dataclass
class Cluster:
    name: str
    url: str
    executor: Executor
    processes: DaskProcesses | None = None

    @property
    def address(self) -> str | None:
        return self.processes.address if self.processes else None


@pytest.fixture(scope="session", params=["embedded", "scaleout"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    if request.param == "embedded":
        url = f"sqlite:///{tmp_path_factory.mktemp('orch-sqlite') / 'orchestration.db'}"
        migrate(url)
        executor = Executor(workers=2).start()
        yield Cluster("embedded", url, executor)
        executor.close()
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database(f"orch_{uuid.uuid4().hex[:8]}")  # type: ignore[attr-defined]
    migrate(url)
    processes = DaskProcesses(free_port(), 2, tmp_path_factory.mktemp("dask-logs")).start()
    try:
        time.sleep(1.0)
        executor = Executor(address=processes.address).start()
        wait_for_workers(executor, 2)
        yield Cluster("scaleout", url, executor, processes)
        executor.close()
    finally:
        processes.stop()


def _use_database(url: str | None) -> None:
    if url is None:
        settings.__dict__.pop("resolved_database_url", None)
    else:
        settings.__dict__["resolved_database_url"] = url
    reset_engine()


def cancel_live_jobs() -> None:
    with session_scope() as session:
        session.execute(
            update(OptimizationJob)
            .where(OptimizationJob.status.in_([s.value for s in LIVE_STATUSES]))  # type: ignore[attr-defined]
            .values(status="canceled", lease_owner=None, lease_expires_at=None)
        )


@dataclass
class Backend:
    cluster: Cluster
    owner_id: uuid.UUID
    dataset_id: uuid.UUID

    @property
    def name(self) -> str:
        return self.cluster.name

    @property
    def executor(self) -> Executor:
        return self.cluster.executor

    @property
    def url(self) -> str:
        return self.cluster.url


@pytest.fixture
def backend(cluster: Cluster) -> Iterator[Backend]:
    """The cluster's database switched in for this test, with a fresh user."""
    previous = settings.__dict__.get("resolved_database_url")
    _use_database(cluster.url)
    try:
        with session_scope() as session:
            user = make_user(session)
            dataset = bundled_dataset(session)
            owner_id, dataset_id = user.id, dataset.id
        yield Backend(cluster, owner_id, dataset_id)
        cancel_live_jobs()
    finally:
        _use_database(previous)

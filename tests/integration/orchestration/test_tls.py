"""A ``tls://`` scheduler: the executor connects with certificates from Dask's own
configuration (``distributed.comm.tls.*``) and a job runs through it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest

from optimizer_app.orchestration.executor import Executor
from optimizer_app.persistence.db import session_scope
from tests.integration.orchestration.conftest import (
    Backend,
    Cluster,
    DaskProcesses,
    cancel_live_jobs,
    wait_for_workers,
)
from tests.integration.orchestration.helpers import (
    SMALL_SPACE,
    assert_books_balance,
    running,
    submit,
    wait_terminal,
)
from tests.support.factories import bundled_dataset, make_user
from tests.support.postgres import free_port


class TlsProcesses(DaskProcesses):
    cert: Path
    key: Path

    @property
    def address(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def _tls(self) -> list[str]:
        return ["--tls-ca-file", str(self.cert), "--tls-cert", str(self.cert),
                "--tls-key", str(self.key)]

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        return self._spawn("scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port",
                           str(self.port), "--no-dashboard", *self._tls())

    def start_worker(self) -> subprocess.Popen[bytes]:
        return self._spawn("worker", self.address, "--nthreads", "1", "--no-dashboard",
                           "--host", "127.0.0.1", *self._tls())


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_backend(migrated_db: str, tmp_path: Path) -> Iterator[Backend]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl (to make a test certificate) is not installed")
    cert, key = self_signed(tmp_path)
    processes = TlsProcesses(free_port(), 1, tmp_path)
    processes.cert, processes.key = cert, key
    processes.start()
    config = {
        "distributed.comm.tls.ca-file": str(cert),
        "distributed.comm.tls.client.cert": str(cert),
        "distributed.comm.tls.client.key": str(key),
        "distributed.comm.require-encryption": True,
    }
    executor: Executor | None = None
    try:
        with dask.config.set(config):
            time.sleep(1.0)
            executor = Executor(address=processes.address).start()
            wait_for_workers(executor, 1)
            with session_scope() as session:
                owner, dataset = make_user(session), bundled_dataset(session)
                ids = owner.id, dataset.id
            yield Backend(Cluster("tls", migrated_db, executor, processes), *ids)
            cancel_live_jobs()
    finally:
        if executor is not None:
            executor.close()
        processes.stop()


def test_a_job_runs_on_a_tls_cluster(tls_backend: Backend) -> None:
    assert tls_backend.executor.scheduler_address.startswith("tls://")  # type: ignore[union-attr]
    job = submit(tls_backend, SMALL_SPACE)
    with running(tls_backend):
        final = wait_terminal(tls_backend, job.id, timeout=60)
    assert final.status == "succeeded" and final.summary.finished == 175
    assert_books_balance(job.id)

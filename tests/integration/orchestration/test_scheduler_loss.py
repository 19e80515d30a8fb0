"""A real cluster's scheduler dies mid-job and is restarted (with its workers, which exit when
their scheduler is gone): the orchestrator reconnects, resends what has no result, and the
job completes with every combination counted once. PostgreSQL, like the scale-out setup."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer_app.orchestration.executor import Executor
from optimizer_app.persistence.db import session_scope
from tests.conftest import migrate
from tests.integration.orchestration.conftest import (
    Backend,
    Cluster,
    DaskProcesses,
    _use_database,
    cancel_live_jobs,
    wait_for_workers,
)
from tests.integration.orchestration.helpers import (
    MEDIUM_SPACE,
    SLOW,
    assert_books_balance,
    running,
    submit,
    wait_progress,
    wait_terminal,
)
from tests.support.factories import bundled_dataset, make_user
from tests.support.postgres import free_port


@pytest.fixture
def lonely_cluster(postgres_server: object, tmp_path: Path) -> Iterator[tuple[Backend, DaskProcesses]]:
    url = postgres_server.create_database(f"loss_{uuid.uuid4().hex[:8]}")  # type: ignore[attr-defined]
    migrate(url)
    processes = DaskProcesses(free_port(), 1, tmp_path).start()
    executor: Executor | None = None
    try:
        time.sleep(1.0)
        executor = Executor(address=processes.address).start()
        wait_for_workers(executor, 1)
        _use_database(url)
        with session_scope() as session:
            owner, dataset = make_user(session), bundled_dataset(session)
            ids = owner.id, dataset.id
        yield Backend(Cluster("lonely", url, executor, processes), *ids), processes
        cancel_live_jobs()
    finally:
        _use_database(None)
        if executor is not None:
            executor.close()
        processes.stop()


def test_scheduler_loss_reconnects_and_resends_what_has_no_result(
    lonely_cluster: tuple[Backend, DaskProcesses],
) -> None:
    backend, processes = lonely_cluster
    job = submit(backend, MEDIUM_SPACE)
    with running(backend, chunk_function=SLOW):
        before = wait_progress(backend, job.id, 150)
        for proc in processes.procs:  # the scheduler host goes down, workers with it
            proc.send_signal(signal.SIGKILL)
        for proc in processes.procs:
            proc.wait(timeout=10)
        time.sleep(1.0)
        processes.procs.clear()
        processes.start()  # the operator (or a supervisor) brings the cluster back
        final = wait_terminal(backend, job.id, timeout=90)
    assert before.summary.finished < before.summary.total
    assert final.status == "succeeded"
    assert final.summary.finished == final.summary.total == 1409
    assert_books_balance(job.id)

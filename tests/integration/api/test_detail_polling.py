"""What an open detail page reads on each tick of its polling (once a second per page): the
status, as the API's polls read it; the whole job and the running job's share of the workers
only when the status changed or the charts are due; the validation card, for a job without
one, the status alone. The history page, while a job on it is live: that job's progress
alone, until a status or the number of jobs changes."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from optimizer_app.core.errors import NotFoundError
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, JobStatus
from optimizer_app.services import optimizations as optimization_service
from optimizer_app.services import queue as queue_service
from optimizer_app.ui import calls
from optimizer_app.ui.states import history, job_detail, validation
from tests.integration.api.conftest import ApiUser, stored_job


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each page call ran (each still does its real read)."""
    seen: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen[name] += 1
            return real(*args, **kwargs)
        return call

    for name in ("status", "job", "running_share", "failed_tasks", "validation", "stability",
                 "history_page", "history_progress"):
        monkeypatch.setattr(calls, name, counting(name, getattr(calls, name)))
    return seen


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED])
def test_the_pages_status_is_the_apis(alice: ApiUser, bob: ApiUser, bundled: list[Dataset],
                                      status: JobStatus) -> None:
    job_id = stored_job(alice, bundled[0], tasks=12, status=status)
    with session_scope(readonly=True) as session:
        expected = optimization_service.get_status(session=session, owner_id=alice.id,
                                                   job_id=job_id)
    shown = calls.status(alice.id, job_id)
    # (a queued job's estimated start is computed from the time it is asked)
    assert shown.model_dump(exclude={"queue"}) == expected.model_dump(exclude={"queue"})
    assert (shown.queue is not None) == (expected.queue is not None) == (
        status is JobStatus.QUEUED)
    if shown.queue is not None and expected.queue is not None:
        assert shown.queue.position == expected.queue.position
    with pytest.raises(NotFoundError):
        calls.status(bob.id, job_id)  # another user's job is not found
    with pytest.raises(NotFoundError):
        calls.status(alice.id, uuid.uuid4())


def test_a_tick_reads_the_status_alone_until_the_charts_are_due(
    alice: ApiUser, bundled: list[Dataset], counted: Counter[str],
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=12, status=JobStatus.RUNNING)
    job = calls.job(alice.id, job_id)
    counted.clear()

    quiet = job_detail._fetch_update(alice.id, job, time.monotonic(), 5)
    assert dict(counted) == {"status": 1}
    assert quiet.share_read is False and quiet.share is None and quiet.failed is None
    assert quiet.status.status == "running" and quiet.job is job

    counted.clear()
    due = job_detail._fetch_update(alice.id, job, time.monotonic() - 60, 5)
    assert dict(counted) == {"status": 1, "job": 1, "running_share": 1}
    assert due.charts_due and due.share_read
    with session_scope(readonly=True) as session:
        assert due.share == queue_service.running_share(session=session, owner_id=alice.id)


def test_a_tick_rereads_the_job_when_its_status_changed(
    alice: ApiUser, bundled: list[Dataset], counted: Counter[str],
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=12, status=JobStatus.SUCCEEDED)
    shown_running = calls.job(alice.id, job_id).model_copy(update={"status": "running"})
    counted.clear()
    update = job_detail._fetch_update(alice.id, shown_running, time.monotonic(), 5)
    assert counted["job"] == 1 and counted["running_share"] == 0
    assert update.job.status == "succeeded" and update.share_read and update.share is None


def test_the_validation_card_of_a_job_without_one_reads_only_the_status(
    alice: ApiUser, bundled: list[Dataset], counted: Counter[str],
) -> None:
    job_id = stored_job(alice, bundled[0], tasks=12, status=JobStatus.RUNNING)
    first = validation._fetch(alice.id, job_id)  # the page's first load: not known yet
    assert first == (None, True, None)
    assert counted["validation"] == 1
    counted.clear()
    assert validation._fetch(alice.id, job_id, validated=False) == (None, True, None)
    assert dict(counted) == {"status": 1}
    with session_scope() as session:  # the job ends: its stability is read once
        optimization_service.cancel_job(session=session, owner_id=alice.id, job_id=job_id)
    counted.clear()
    answer, live, _stability = validation._fetch(alice.id, job_id, validated=False)  # type: ignore[misc]
    assert answer is None and live is False
    assert counted["validation"] == 0


def test_pages_of_a_running_job_share_one_heatmap_chart_between_reads(
    alice: ApiUser, bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every page of a running job refreshes its heatmap every few seconds: between two reads
    of the job's cells they get the same heatmap and the same chart text, built once; after
    the next read, a new one."""
    from optimizer_app.persistence import tasks
    from optimizer_app.ui import heatmap_view
    from optimizer_app.ui.states import heatmap

    clock = {"now": 5000.0}
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock["now"])
    built: list[int] = []
    real = heatmap_view.chart_data

    def chart_data(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(heatmap_view, "chart_data", chart_data)
    job_id = stored_job(alice, bundled[0], tasks=12, status=JobStatus.RUNNING)
    labels = heatmap._labels(calls.job(alice.id, job_id))

    first, text, _ = heatmap._read(alice.id, job_id, None, None, labels)
    assert len(first.cells) == 12 and len(built) == 1
    for _ in range(3):  # three more pages within the reuse window
        again, same, _ = heatmap._read(alice.id, job_id, None, None, labels)
        assert again is first and same is text
    assert len(built) == 1

    other, other_text, _ = heatmap._read(alice.id, job_id, "slow", "fast", labels)
    assert (other.x, other.y) == ("slow", "fast") and other_text != text
    assert len(built) == 2  # other axes: their own chart

    clock["now"] += 60  # past the reuse window: the cells are read again, the chart rebuilt
    fresh, fresh_text, _ = heatmap._read(alice.id, job_id, None, None, labels)
    assert fresh is not first and len(built) == 3
    assert fresh_text == text  # the same rows: the same chart
    again, same, _ = heatmap._read(alice.id, job_id, None, None, labels)
    assert again is fresh and same is fresh_text and len(built) == 3


def _set_finished(job_id: uuid.UUID, finished: int) -> None:
    from optimizer_app.persistence.models import OptimizationJob

    with session_scope() as session:
        job = session.get(OptimizationJob, job_id)
        assert job is not None
        job.summary = {**(job.summary or {}), "finished": finished}
        session.add(job)


def test_a_history_tick_reads_the_live_jobs_progress_alone_until_the_page_changes(
    alice: ApiUser, bob: ApiUser, bundled: list[Dataset], counted: Counter[str],
) -> None:
    for _ in range(3):
        stored_job(alice, bundled[0], tasks=12, status=JobStatus.SUCCEEDED)
    running = stored_job(alice, bundled[0], tasks=12, total=100, status=JobStatus.RUNNING)
    page = calls.history_page(alice.id, limit=history.PAGE_SIZE, offset=0)
    rows = [history.history_row(job) for job in page.data]
    live = {uuid.UUID(r.id): r.status for r in rows if r.status == "running"}
    assert list(live) == [running] and page.count == 4
    _set_finished(running, 30)
    counted.clear()

    jobs, found = history._refresh(alice.id, 0, page.count, live)
    assert jobs is None and dict(counted) == {"history_progress": 1}
    # the row updated from the progress alone is the row the whole page would show
    updated = [history.dataclasses.replace(r, **history._progress(found[k].summary,
                                                                  found[k].best_score,
                                                                  found[k].metric))
               if (k := uuid.UUID(r.id)) in found else r for r in rows]
    fresh = calls.history_page(alice.id, limit=history.PAGE_SIZE, offset=0)
    assert updated == [history.history_row(job) for job in fresh.data]
    assert "30" in next(r.progress for r in updated if r.id == str(running))

    stored_job(alice, bundled[0], tasks=2, status=JobStatus.QUEUED)  # a job added elsewhere
    counted.clear()
    jobs, _ = history._refresh(alice.id, 0, page.count, live)
    assert jobs is not None and jobs.count == 5
    assert dict(counted) == {"history_progress": 1, "history_page": 1}

    with session_scope() as session:  # the running job ends: the whole page again
        optimization_service.cancel_job(session=session, owner_id=alice.id, job_id=running)
    jobs, _ = history._refresh(alice.id, 0, 5, live)
    assert jobs is not None
    assert next(j.status for j in jobs.data if j.id == running) == "canceled"

    jobs, found = history._refresh(bob.id, 0, 0, live)  # another user's job: not theirs
    assert found == {} and jobs is not None and jobs.count == 0

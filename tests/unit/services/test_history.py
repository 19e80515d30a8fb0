"""History service: newest first, lineage in batched reads, task sorting and pagination."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import Session

from optimizer_app.core.errors import NotFoundError
from optimizer_app.persistence.db import get_engine
from optimizer_app.persistence.models import Dataset, JobStatus, User
from optimizer_app.services import history
from tests.support.factories import JobSpec, make_job, make_user


def test_lineage_and_order(db: Session, user: User, dataset: Dataset) -> None:
    source = make_job(db, owner_id=user.id, dataset_id=dataset.id,
                      spec=JobSpec(name="source", age_seconds=30))
    reruns = [make_job(db, owner_id=user.id, dataset_id=dataset.id,
                       spec=JobSpec(source_job_id=source.id, age_seconds=20 - i,
                                    status=JobStatus.QUEUED, tasks=0))
              for i in range(2)]
    page = history.list_jobs(session=db, owner_id=user.id, limit=10)
    assert [j.id for j in page.data] == [reruns[1].id, reruns[0].id, source.id]
    assert page.count == 3
    assert page.data[0].source_job_name == "source"
    assert page.data[2].rerun_ids == [r.id for r in reruns]
    assert page.data[2].dataset_name == dataset.name
    detail = history.get_job(session=db, owner_id=user.id, job_id=source.id)
    assert detail.rerun_ids == [r.id for r in reruns] and detail.source_job_id is None


def test_a_page_costs_a_fixed_number_of_queries(db: Session, user: User, dataset: Dataset
                                                ) -> None:
    for _ in range(8):
        make_job(db, owner_id=user.id, dataset_id=dataset.id, spec=JobSpec(tasks=1))
    db.flush()
    count = {"n": 0}

    def record(*_args: object) -> None:
        count["n"] += 1

    engine = get_engine(False)
    event.listen(engine, "before_cursor_execute", record)
    try:
        history.list_jobs(session=db, owner_id=user.id, limit=8)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert count["n"] <= 5  # count, page, source names, dataset names, re-run ids


def test_other_owner_sees_nothing(db: Session, user: User, dataset: Dataset) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id)
    stranger = make_user(db)
    assert history.list_jobs(session=db, owner_id=stranger.id).count == 0
    with pytest.raises(NotFoundError):
        history.get_job(session=db, owner_id=stranger.id, job_id=job.id)
    with pytest.raises(NotFoundError):
        history.list_tasks(session=db, owner_id=stranger.id, job_id=job.id)


def test_tasks_best_first_failed_last(db: Session, user: User, dataset: Dataset) -> None:
    job = make_job(db, owner_id=user.id, dataset_id=dataset.id,
                   spec=JobSpec(tasks=5, failed=2))
    page = history.list_tasks(session=db, owner_id=user.id, job_id=job.id, limit=10)
    scores = [t.score for t in page.data]
    assert scores[:3] == sorted(scores[:3], reverse=True) and scores[3:] == [None, None]
    assert page.data[0].metrics is not None and page.data[-1].metrics is None
    assert page.data[-1].status == "failed"
    asc = history.list_tasks(session=db, owner_id=user.id, job_id=job.id, order="asc")
    assert [t.score for t in asc.data][:3] == sorted(scores[:3])

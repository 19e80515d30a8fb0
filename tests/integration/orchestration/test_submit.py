"""The submit / status / cancel use cases against the default database (no orchestrator)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, func, select

from optimizer_app.core.config import settings
from optimizer_app.core.errors import (
    ConflictError,
    NotFoundError,
    TooManyRequestsError,
    ValidationError,
)
from optimizer_app.domain.strategies import get_strategy
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, OptimizationJob, OptimizationTask
from optimizer_app.services.optimizations import cancel_job, get_status, job_to_public, submit_job
from optimizer_app.services.schemas import JobCreate
from tests.support.factories import bundled_dataset, make_user

SPACE = {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"start": 10, "stop": 200, "step": 10}}
POLICY = {"mode": "max", "metric": "sharpe"}


@pytest.fixture
def world(migrated_db: str) -> Iterator[dict[str, Any]]:
    with session_scope() as session:
        owner, other = make_user(session), make_user(session)
        dataset = bundled_dataset(session)
        ids = {"owner": owner.id, "other": other.id, "dataset": dataset.id,
               "dataset_name": dataset.name}
    yield ids
    with session_scope() as session:  # leave no live job behind for other tests
        for job in session.exec(select(OptimizationJob).where(
                OptimizationJob.owner_id.in_([ids["owner"], ids["other"]]))).all():  # type: ignore[attr-defined]
            if job.status in ("queued", "running"):
                job.status = "canceled"
                session.add(job)


def body(world: dict[str, Any], **changes: Any) -> JobCreate:
    raw = {"strategy": "sma_cross", "datasetId": str(world["dataset"]), "paramSpace": SPACE,
           "earlyStopPolicy": POLICY, **changes}
    return JobCreate.model_validate(raw)


def submit(world: dict[str, Any], owner: str = "owner", **changes: Any):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return submit_job(session=session, owner_id=world[owner], body=body(world, **changes))


def task_count(session: Session, job_id: uuid.UUID) -> int:
    return int(session.exec(select(func.count()).select_from(OptimizationTask)
                            .where(OptimizationTask.job_id == job_id)).one())


def test_submit_stores_a_normalized_queued_job_without_tasks(world: dict[str, Any]) -> None:
    job = submit(world)
    assert job.status == "queued"
    assert job.name == f"{get_strategy('sma_cross').label} on {world['dataset_name']}"
    assert job.summary.model_dump() == {"total": 175, "finished": 0, "failed": 0,
                                        "constrained": 0, "failures": {}, "top_n": []}
    assert job.early_stop_policy == {"mode": "max", "metric": "sharpe", "topN": 10,
                                     "targetScore": None, "patience": None, "minTasks": None}
    assert job.backtest_options == {"initialCash": 10000.0, "commission": 0.002,
                                    "slippage": 0.0, "direction": "long", "sizing": "fractional"}
    assert job.dataset_name == world["dataset_name"] and job.progress == 0.0
    with session_scope(readonly=True) as session:
        assert task_count(session, job.id) == 0
        row = session.get(OptimizationJob, job.id)
        assert row is not None and row.param_space == SPACE
        assert job_to_public(row).summary == job.summary


def test_a_huge_grid_is_queued_in_well_under_a_second(world: dict[str, Any]) -> None:
    space = {"period": {"start": 2, "stop": 98, "step": 1},
             "lower": {"start": 1, "stop": 50, "step": 1},
             "upper": {"start": 50, "stop": 90, "step": 1}}
    started = time.perf_counter()
    job = submit(world, strategy="rsi_reversion", paramSpace=space, name="  big one ")
    elapsed = time.perf_counter() - started
    assert job.summary.total == 198_753 and job.name == "big one"
    assert elapsed < 0.5, elapsed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"strategy": "nope"}, "strategy"),
        ({"paramSpace": {"fast": {"values": [5]}}}, "paramSpace.slow"),
        ({"paramSpace": {"fast": {"values": [500]}, "slow": {"values": [600]}}},
         "paramSpace.fast.values.0"),
        ({"earlyStopPolicy": {"mode": "max", "metric": "nope"}}, "earlyStopPolicy.metric"),
        ({"earlyStopPolicy": {"mode": "sideways", "metric": "sharpe"}}, "earlyStopPolicy.mode"),
        ({"earlyStopPolicy": {"mode": "max", "metric": "sharpe", "topN": 0}},
         "earlyStopPolicy.topN"),
        ({"earlyStopPolicy": {"metric": "sharpe"}}, "earlyStopPolicy.mode"),
        ({"backtestOptions": {"commission": -1}}, "backtestOptions.commission"),
        ({"backtestOptions": {"leverage": 3}}, "backtestOptions.leverage"),
    ],
)
def test_invalid_jobs_are_rejected_naming_the_field(world: dict[str, Any], changes: dict[str, Any],
                                                    field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        submit(world, **changes)
    fields = [d["field"] for d in caught.value.details]
    assert field in fields, caught.value.details
    assert field in caught.value.message


def test_every_problem_is_reported_at_once(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        submit(world, paramSpace={"fast": {"values": [5]}},
               earlyStopPolicy={"mode": "max", "metric": "nope"},
               backtestOptions={"sizing": "all-in"})
    fields = {d["field"] for d in caught.value.details}
    assert {"paramSpace.slow", "earlyStopPolicy.metric", "backtestOptions.sizing"} <= fields


def test_a_grid_over_the_cap_is_rejected(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setattr(settings, "grid_cap", 100)
    with pytest.raises(ValidationError, match="limit is 100"):
        submit(world)


def test_another_users_dataset_or_source_job_is_not_found(world: dict[str, Any]) -> None:
    with session_scope() as session:
        theirs = Dataset(owner_id=world["other"], name="private", symbol="P", rows=1,
                         first_date=date(2020, 1, 1), last_date=date(2020, 1, 2), checksum="0" * 64,
                         storage_path="/nowhere.csv")
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    with pytest.raises(NotFoundError, match="dataset"):
        submit(world, datasetId=str(theirs_id))
    with pytest.raises(NotFoundError, match="dataset"):
        submit(world, datasetId=str(uuid.uuid4()))
    their_job = submit(world, owner="other")
    with pytest.raises(NotFoundError, match="source job"):
        submit(world, sourceJobId=str(their_job.id))
    mine = submit(world)
    rerun = submit(world, sourceJobId=str(mine.id))
    assert rerun.source_job_id == mine.id and rerun.source_job_name == mine.name


def test_the_number_of_live_jobs_per_user_is_limited(world: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_live_jobs_per_user", 2)
    first = submit(world)
    submit(world)
    with pytest.raises(TooManyRequestsError, match="limit is 2"):
        submit(world)
    submit(world, owner="other")  # another user is not affected
    with session_scope() as session:
        cancel_job(session=session, owner_id=world["owner"], job_id=first.id)
    submit(world)  # a canceled job no longer counts


def test_status_and_cancel_are_for_the_owner_only(world: dict[str, Any]) -> None:
    job = submit(world)
    with session_scope(readonly=True) as session:
        current = get_status(session=session, owner_id=world["owner"], job_id=job.id)
        assert (current.status, current.summary.total) == ("queued", 175)
        with pytest.raises(NotFoundError):
            get_status(session=session, owner_id=world["other"], job_id=job.id)
    with session_scope() as session, pytest.raises(NotFoundError):
        cancel_job(session=session, owner_id=world["other"], job_id=job.id)
    with session_scope() as session:
        canceled = cancel_job(session=session, owner_id=world["owner"], job_id=job.id)
    assert canceled.status == "canceled" and canceled.stop_reason == "canceled by the user"
    assert canceled.summary.total == 175
    with session_scope() as session, pytest.raises(ConflictError, match="already canceled"):
        cancel_job(session=session, owner_id=world["owner"], job_id=job.id)

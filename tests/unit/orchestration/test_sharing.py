"""Share of the workers as a quota (orchestration.sharing.over_share)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from optimizer_app.orchestration.sharing import over_share

ALICE, BOB = uuid.uuid4(), uuid.uuid4()


@dataclass
class FakeRun:
    job_id: uuid.UUID
    owner_id: uuid.UUID
    worker_share: float = 1.0
    unsent: bool = True

    def has_unsent(self) -> bool:
        return self.unsent


@dataclass
class FakeFlight:
    job_id: uuid.UUID


def world(*runs: FakeRun, flights: dict[uuid.UUID, int]) -> tuple[dict[Any, Any], dict[str, Any]]:
    held = {run.job_id: run for run in runs}
    in_flight = {f"{job_id}-{n}": FakeFlight(job_id)
                 for job_id, count in flights.items() for n in range(count)}
    return held, in_flight


def test_a_full_share_is_never_capped() -> None:
    mine = FakeRun(uuid.uuid4(), ALICE)
    theirs = FakeRun(uuid.uuid4(), BOB)
    runs, in_flight = world(mine, theirs, flights={mine.job_id: 4})
    assert not over_share(mine, runs, in_flight, slots=4)  # type: ignore[arg-type]


def test_a_share_caps_the_users_jobs_together_while_another_user_waits() -> None:
    first = FakeRun(uuid.uuid4(), ALICE, worker_share=0.5)
    second = FakeRun(uuid.uuid4(), ALICE, worker_share=0.5)
    theirs = FakeRun(uuid.uuid4(), BOB)
    runs, in_flight = world(first, second, theirs, flights={first.job_id: 1})
    assert not over_share(second, runs, in_flight, slots=4)  # type: ignore[arg-type]
    runs, in_flight = world(first, second, theirs, flights={first.job_id: 1, second.job_id: 1})
    assert over_share(first, runs, in_flight, slots=4)  # type: ignore[arg-type]
    assert over_share(second, runs, in_flight, slots=4)  # type: ignore[arg-type]


def test_the_cap_lifts_when_nobody_else_waits() -> None:
    mine = FakeRun(uuid.uuid4(), ALICE, worker_share=0.25)
    done = FakeRun(uuid.uuid4(), BOB, unsent=False)  # everything sent: not waiting
    runs, in_flight = world(mine, done, flights={mine.job_id: 3})
    assert not over_share(mine, runs, in_flight, slots=4)  # type: ignore[arg-type]
    alone, alone_flights = world(mine, flights={mine.job_id: 3})
    assert not over_share(mine, alone, alone_flights, slots=4)  # type: ignore[arg-type]


def test_a_tiny_share_still_gets_one_chunk() -> None:
    mine = FakeRun(uuid.uuid4(), ALICE, worker_share=0.01)
    theirs = FakeRun(uuid.uuid4(), BOB)
    runs, in_flight = world(mine, theirs, flights={})
    assert not over_share(mine, runs, in_flight, slots=4)  # type: ignore[arg-type]
    runs, in_flight = world(mine, theirs, flights={mine.job_id: 1})
    assert over_share(mine, runs, in_flight, slots=4)  # type: ignore[arg-type]

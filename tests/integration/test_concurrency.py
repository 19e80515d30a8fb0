"""Many researchers at once: real concurrent clients against a real HTTP server.

The API (uvicorn serving ``create_api()``) and the orchestrator (one local worker) run as their
own processes on SQLite and on PostgreSQL, while a large job keeps the orchestrator writing
results. Each test releases its requests together (threads behind a barrier, one connection
each) and checks what the contract promises, never how fast: no 5xx, no "database is locked",
every accepted job accounted for, one winner where there can be only one, and ``/healthz``
answering 200 throughout. Latencies are measured by ``benchmarks/concurrency.py``."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import migrate
from tests.support.live_api import (
    API,
    Account,
    HealthWatch,
    LiveApp,
    at_once,
    new_account,
    register,
    sign_in,
    start_live_app,
    strong_password,
)

# bollinger_breakout, every period (196) x k from 0.5 to 4.0 by 0.0002 (17,501): 3,430,196
# combinations, far more than one worker finishes while this module runs.
BIG_SPACE = {"period": {"start": 5, "stop": 200, "step": 1},
             "k": {"start": 0.5, "stop": 4.0, "step": 0.0002}}
SMALL_SPACE = {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"values": [100, 150, 200]}}
POLICY = {"mode": "max", "metric": "sharpe", "topN": 10}
TERMINAL = {"succeeded", "failed", "early-stopped", "canceled"}
SIGN_INS = 20
SUBMITTERS, SUBMITS_EACH = 20, 3  # the 60 submits at once
RACERS = 10
REQUEST_TIMEOUT = 60.0


@dataclass
class Reply:
    """What one concurrent request got back (or the exception it raised)."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Scene:
    app: LiveApp
    client: httpx.Client
    runner: Account
    dataset_id: str
    big_job: str = ""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                               marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[LiveApp]:
    data_dir = tmp_path_factory.mktemp(f"concurrency-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'optimizer.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"concurrency_{uuid.uuid4().hex[:8]}")
    migrate(url)
    app = start_live_app(url, data_dir, OPTIMIZER_GRID_CAP="4000000",
                         OPTIMIZER_QUOTA_COMBINATIONS_PER_DAY="0")
    try:
        yield app
    finally:
        app.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def scene(live: LiveApp) -> Iterator[Scene]:
    with httpx.Client(base_url=live.base_url, timeout=REQUEST_TIMEOUT) as client:
        runner = sign_in(client, register(client, new_account("runner")))
        datasets = client.get(f"{API}/datasets", headers=runner.headers)
        assert datasets.status_code == 200, datasets.text
        scene = Scene(live, client, runner, datasets.json()["data"][0]["id"])
        try:
            yield scene
        finally:
            if scene.big_job:
                client.post(f"{API}/optimizations/{scene.big_job}/cancel", headers=runner.headers)


def submit_body(dataset_id: str, space: dict[str, Any], name: str) -> dict[str, Any]:
    return {"name": name, "strategy": "bollinger_breakout" if "k" in space else "sma_cross",
            "datasetId": dataset_id, "paramSpace": space, "earlyStopPolicy": POLICY}


def job_status(client: httpx.Client, account: Account, job_id: str) -> str:
    response = client.get(f"{API}/optimizations/{job_id}/status", headers=account.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def wait_running(client: httpx.Client, account: Account, job_id: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while (status := job_status(client, account, job_id)) == "queued":
        assert time.monotonic() < deadline, f"job {job_id} still queued after {timeout:g} s"
        time.sleep(0.2)
    assert status == "running", f"job {job_id} is {status}, expected it running"


def big_job_running(scene: Scene) -> str:
    """The large job, running (a new one if the last one ended)."""
    client, runner = scene.client, scene.runner
    if not scene.big_job or job_status(client, runner, scene.big_job) in TERMINAL:
        created = client.post(f"{API}/optimizations", headers=runner.headers,
                              json=submit_body(scene.dataset_id, BIG_SPACE, "big"))
        assert created.status_code == 201, created.text
        scene.big_job = created.json()["id"]
    wait_running(client, runner, scene.big_job)
    return scene.big_job


def send(base_url: str, method: str, path: str, **kwargs: Any) -> Reply:
    """One request on a connection of its own."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        response = client.request(method, path, **kwargs)
        return Reply(response.status_code, response.text)


def replies(results: list[Any]) -> list[Reply]:
    """Every concurrent call returned an answer (no timeout, no dropped connection)."""
    failed = [repr(r) for r in results if not isinstance(r, Reply)]
    assert not failed, f"{len(failed)} requests failed: {failed[:3]}"
    return results


def assert_no_server_error(app: LiveApp, answers: list[Reply]) -> None:
    bad = [f"{a.status} {a.body[:300]}" for a in answers
           if a.status >= 500 or "database is locked" in a.body.lower()]
    assert not bad, (f"{len(bad)} of {len(answers)} answers were server errors: {bad[:3]}\n"
                     f"server errors logged:\n{logged_errors(app)}")


def logged_errors(app: LiveApp, last: int = 5) -> str:
    log = app.data_dir / "api.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join([line[:500] for line in lines if '"ERROR"' in line][-last:]) or "(none)"


def assert_healthy(health: HealthWatch) -> None:
    assert health.count > 0
    assert not health.problems, (
        f"/healthz failed {len(health.problems)} of {health.count} times: {health.problems[:3]}")


def count_rows(database_url: str, sql: str, **params: Any) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def test_sign_ins_while_a_job_runs(scene: Scene) -> None:
    accounts = [register(scene.client, new_account("signin")) for _ in range(SIGN_INS)]
    big_job_running(scene)
    base = scene.app.base_url

    with HealthWatch(base) as health:
        answers = replies(at_once([
            lambda a=a: send(base, "POST", f"{API}/auth/token",
                             json={"email": a.email, "password": a.password})
            for a in accounts
        ]))

    assert_no_server_error(scene.app, answers)
    assert [a.status for a in answers] == [200] * SIGN_INS, [a.body[:200] for a in answers]
    for account, answer in zip(accounts, answers, strict=True):
        account.token = answer.json()["accessToken"]
        mine = scene.client.get(f"{API}/optimizations", headers=account.headers)
        assert mine.status_code == 200, mine.text
    assert_healthy(health)


def test_concurrent_submits_are_all_accounted_for(scene: Scene) -> None:
    tag = uuid.uuid4().hex[:8]
    accounts = [sign_in(scene.client, register(scene.client, new_account(f"submit{tag}")))
                for _ in range(SUBMITTERS)]
    big_job_running(scene)
    base = scene.app.base_url
    owners = [a for a in accounts for _ in range(SUBMITS_EACH)]

    with HealthWatch(base) as health:
        answers = replies(at_once([
            lambda a=a, i=i: send(base, "POST", f"{API}/optimizations", headers=a.headers,
                                  json=submit_body(scene.dataset_id, SMALL_SPACE, f"small {i}"))
            for i, a in enumerate(owners)
        ]))

    assert_no_server_error(scene.app, answers)
    unexpected = [f"{a.status} {a.body[:200]}" for a in answers if a.status not in (201, 429)]
    assert not unexpected, unexpected
    for answer in answers:
        if answer.status == 429:
            assert answer.json()["error"]["code"] in ("too_many_requests", "quota_exceeded")
    created: dict[str, set[str]] = {a.email: set() for a in accounts}
    for owner, answer in zip(owners, answers, strict=True):
        if answer.status == 201:
            created[owner.email].add(answer.json()["id"])
    accepted = sum(len(ids) for ids in created.values())
    assert accepted > 0

    # Every 201 is a job in its owner's history, and the history holds nothing else.
    for account in accounts:
        listed = scene.client.get(f"{API}/optimizations", params={"limit": 100},
                                  headers=account.headers)
        assert listed.status_code == 200, listed.text
        ids = {job["id"] for job in listed.json()["data"]}
        assert ids == created[account.email], (account.email, ids, created[account.email])
        assert listed.json()["count"] == len(created[account.email])
    # No phantom jobs in the database either.
    stored = count_rows(
        scene.app.database_url,
        "SELECT count(*) FROM optimization_jobs j JOIN users u ON u.id = j.owner_id "
        "WHERE u.email LIKE :pattern", pattern=f"submit{tag}-%")
    assert stored == accepted
    assert_healthy(health)


def test_concurrent_registers_of_one_email(scene: Scene) -> None:
    email = f"same-{uuid.uuid4().hex[:12]}@example.com"
    base = scene.app.base_url
    big_job_running(scene)

    with HealthWatch(base) as health:
        answers = replies(at_once([
            lambda: send(base, "POST", f"{API}/auth/register",
                         json={"email": email, "password": strong_password()})
            for _ in range(RACERS)
        ]))

    assert_no_server_error(scene.app, answers)
    statuses = sorted(a.status for a in answers)
    assert statuses == [201] + [409] * (RACERS - 1), [f"{a.status} {a.body[:200]}"
                                                      for a in answers]
    assert count_rows(scene.app.database_url, "SELECT count(*) FROM users WHERE email = :email",
                      email=email) == 1
    assert_healthy(health)


def test_concurrent_cancels_of_one_job(scene: Scene) -> None:
    client = scene.client
    owner = sign_in(client, register(client, new_account("cancel")))
    big_job_running(scene)
    created = client.post(f"{API}/optimizations", headers=owner.headers,
                          json=submit_body(scene.dataset_id, BIG_SPACE, "to cancel"))
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    assert job_status(client, owner, job_id) in ("queued", "running")
    base = scene.app.base_url

    with HealthWatch(base) as health:
        answers = replies(at_once([
            lambda: send(base, "POST", f"{API}/optimizations/{job_id}/cancel",
                         headers=owner.headers)
            for _ in range(RACERS)
        ]))

    assert_no_server_error(scene.app, answers)
    statuses = [a.status for a in answers]
    assert set(statuses) <= {200, 409}, [f"{a.status} {a.body[:200]}" for a in answers]
    assert 200 in statuses
    for answer in answers:
        if answer.status == 200:
            assert answer.json()["status"] == "canceled"
    assert job_status(client, owner, job_id) == "canceled"
    assert_healthy(health)

"""``tasks.best_by_pair``: the best score at each pair of parameter values over every scored
row of a job, checked against a brute-force reference on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import duckdb
import numpy as np
import pytest
from sqlmodel import Session

from optimizer_app.core.errors import ValidationError
from optimizer_app.domain.grid import Grid, build_grid
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import build_engine
from optimizer_app.persistence.models import Dataset, OptimizationJob, User
from optimizer_app.persistence.tasks import LiveStamp, best_by_pair
from optimizer_app.services.heatmap import get_heatmap
from tests.conftest import migrate
from tests.support.results import store_results

# rsi_reversion keeps lower < upper: combination indices skip the pairs it removes.
SPACE = {"period": {"values": [7, 14, 21]}, "lower": {"start": 20, "stop": 50, "step": 7.5},
         "upper": {"values": [50, 60.5, 70]}}


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'h.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"h_{uuid.uuid4().hex[:10]}")
    migrate(url)
    return url


def _job(session: Session, grid: Grid, *, strategy: str = "rsi_reversion",
         space: dict | None = None, **fields: object) -> uuid.UUID:
    user = User(email=f"{uuid.uuid4().hex}@example.com", password_hash="x")
    dataset = Dataset(name="d", symbol="D", rows=3, first_date=date(2020, 1, 1),
                      last_date=date(2020, 1, 3), checksum="c" * 64, storage_path="/x.csv")
    session.add(user)
    session.add(dataset)
    session.flush()
    job = OptimizationJob(owner_id=user.id, name="j", strategy=strategy,
                          dataset_id=dataset.id, param_space=space or SPACE,
                          summary={"total": grid.total}, **fields)
    session.add(job)
    session.flush()
    return job.id


def _store(session: Session, job_id: uuid.UUID, grid: Grid, indices: list[int],
           scores: list[float | None], dialect: str) -> None:
    del dialect  # the results store is the same on every backend
    store_results(session, job_id, grid, indices, scores)


class _RunningJob:
    """A running job's rows, stored a few at a time, and its heatmap cells as a page of it
    asks for them (with the ``LiveStamp`` of a running job)."""

    def __init__(self, db_url: str) -> None:
        self.grid = build_grid("rsi_reversion", SPACE, cap=10_000)
        self.engine = build_engine(db_url)
        with Session(self.engine) as session:
            self.job_id = _job(session, self.grid)
            session.commit()

    def store(self, index: int, score: float) -> None:
        with Session(self.engine) as session:
            _store(session, self.job_id, self.grid, [index], [score],
                   self.engine.dialect.name)
            session.commit()

    def best(self) -> list[tuple[float, int]]:
        with Session(self.engine) as session:
            cells = best_by_pair(session=session, job_id=self.job_id, grid=self.grid,
                                 x_param="lower", y_param="upper", mode="max",
                                 stamp=LiveStamp("running"))
        return sorted((c.score, c.index) for c in cells)


def _reference(grid: Grid, indices: list[int], scores: list[float | None], x: str,
               y: str | None, mode: str) -> dict[tuple, tuple[float, int]]:
    """Brute force: every scored row, the best per cell, the lowest index among ties."""
    best: dict[tuple, tuple[float, int]] = {}
    for index, score in zip(indices, scores, strict=True):
        if score is None:
            continue
        params = grid.params_at(index)
        key = (params[x], params[y] if y else None)
        signed = score if mode == "max" else -score
        held = best.get(key)
        if held is None or signed > held[0] or (signed == held[0] and index < held[1]):
            best[key] = (signed, index)
    return {k: (s if mode == "max" else -s, i) for k, (s, i) in best.items()}


@pytest.mark.parametrize("mode", ["max", "min"])
def test_best_by_pair_matches_brute_force_with_ties_and_unscored_rows(db_url: str,
                                                                        mode: str) -> None:
    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    assert grid.total < grid.raw_total  # the constraint removed pairs: indices are remapped
    rng = np.random.default_rng(3)
    indices = [int(i) for i in rng.permutation(grid.total)[: grid.total - 5]]  # a few not run
    scores: list[float | None] = [round(float(v), 1) for v in rng.normal(size=len(indices))]
    for k in range(0, len(scores), 6):
        scores[k] = None  # failed, or failing a result constraint
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, indices, scores, engine.dialect.name)
        session.commit()
    with Session(engine) as session:
        for x, y in (("lower", "upper"), ("upper", "period"), ("period", None)):
            found = best_by_pair(session=session, job_id=job_id, grid=grid, x_param=x,
                                 y_param=y, mode=mode)
            expected = _reference(grid, indices, scores, x, y, mode)
            assert {(c.x, c.y): (c.score, c.index) for c in found} == expected
            keys = [(c.x, -1 if c.y is None else c.y) for c in found]
            assert keys == sorted(keys)  # x, then y
            assert all(isinstance(c.x, int) for c in found) == (x == "period")
    engine.dispose()


def test_best_by_pair_of_a_job_without_scores_is_empty(db_url: str) -> None:
    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, [0, 1], [None, None], engine.dialect.name)
        session.commit()
        assert best_by_pair(session=session, job_id=job_id, grid=grid, x_param="lower",
                            y_param="upper", mode="max") == []
        assert best_by_pair(session=session, job_id=uuid.uuid4(), grid=grid, x_param="lower",
                            y_param="upper", mode="max") == []
    engine.dispose()


def test_a_stamp_reuses_the_rows_until_it_changes(db_url: str) -> None:
    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    engine = build_engine(db_url)
    dialect = engine.dialect.name
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, [0], [1.0], dialect)
        session.commit()

    def best(stamp: object) -> list[tuple[float, int]]:
        with Session(engine) as session:
            cells = best_by_pair(session=session, job_id=job_id, grid=grid, x_param="lower",
                                 y_param="upper", mode="max", stamp=stamp)
        return [(c.score, c.index) for c in cells]

    assert best(("running", 1)) == [(1.0, 0)]
    with Session(engine) as session:
        _store(session, job_id, grid, [1], [2.0], dialect)
        session.commit()
    assert best(("running", 1)) == [(1.0, 0)]  # same stamp: the rows read before
    assert sorted(best(("running", 2))) == [(1.0, 0), (2.0, 1)]
    engine.dispose()


def test_dense_axes_group_consecutive_values(db_url: str) -> None:
    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    rng = np.random.default_rng(5)
    indices = list(range(grid.total))
    scores: list[float | None] = [float(v) for v in rng.normal(size=grid.total)]
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, indices, scores, engine.dialect.name)
        session.commit()
        lowers = grid.values["lower"]  # 20, 27.5, 35, 42.5, 50: groups of 2
        found = best_by_pair(session=session, job_id=job_id, grid=grid, x_param="lower",
                             y_param="period", mode="max", x_step=2)
    engine.dispose()
    expected: dict[tuple, tuple[float, int]] = {}
    for index, score in zip(indices, scores, strict=True):
        params = grid.params_at(index)
        group = lowers[lowers.index(params["lower"]) // 2 * 2]
        key = (group, params["period"])
        held = expected.get(key)
        if held is None or score > held[0]:
            expected[key] = (score, index)  # type: ignore[assignment]
    assert {(c.x, c.y): (c.score, c.index) for c in found} == expected
    assert sorted({c.x for c in found}) == [20.0, 35.0, 50.0]


@pytest.mark.parametrize("stamp", [None, ("running", 1)])
def test_dense_axes_grouped_in_the_aggregation_give_the_same_cells(db_url: str,
                                                                   stamp: object) -> None:
    """``buckets`` group dense axes in the aggregation itself (a running job's every-pair read
    with a stamp, a single pair without): the cells are those of grouping afterwards."""
    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    rng = np.random.default_rng(8)
    indices = [int(i) for i in rng.permutation(grid.total)]
    scores: list[float | None] = [round(float(v), 1) for v in rng.normal(size=grid.total)]
    steps = {"period": 2, "lower": 2, "upper": 1}
    buckets = {name: (values, steps[name]) for name, values in grid.values.items()}
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, indices, scores, engine.dialect.name)
        session.commit()
        for x, y in (("lower", "period"), ("period", "upper"), ("lower", None)):
            ask = {"session": session, "job_id": job_id, "grid": grid, "x_param": x,
                   "y_param": y, "mode": "max", "x_step": steps[x],
                   "y_step": steps[y] if y else 1}
            after = best_by_pair(**ask)  # type: ignore[arg-type]
            within = best_by_pair(**ask, stamp=stamp, buckets=buckets)  # type: ignore[arg-type]
            assert within == after and len(after) > 1, (x, y)
    engine.dispose()


def test_too_many_cells_for_the_readers_memory_ask_for_grouped_axes(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An aggregation the readers' engine has no memory for is a clear error naming
    ``maxValues`` (the API's 422), not an engine failure; grouped, the same job reads."""
    space = {"period": {"start": 5, "stop": 200, "step": 1}, "k": {"start": 0.5, "stop": 2.498,
                                                                  "step": 0.002}}
    grid = build_grid("bollinger_breakout", space, cap=1_000_000)
    assert grid.total == 196 * 1000
    tiny = duckdb.connect(config={"memory_limit": "16MB", "threads": 1})
    monkeypatch.setattr(results_store, "_cursor", tiny.cursor)
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid, strategy="bollinger_breakout", space=space,
                      status="running",
                      early_stop_policy={"metric": "sharpe", "mode": "max", "topN": 10})
        scores = np.random.default_rng(2).normal(size=grid.total).tolist()
        _store(session, job_id, grid, list(range(grid.total)), scores, engine.dialect.name)
        session.commit()
        owner = session.get(OptimizationJob, job_id).owner_id  # type: ignore[union-attr]
        with pytest.raises(ValidationError) as refused:
            get_heatmap(session=session, owner_id=owner, job_id=job_id)
        assert refused.value.details[0]["field"] == "maxValues"
        assert "196,000 cells" in str(refused.value)
        grouped = get_heatmap(session=session, owner_id=owner, job_id=job_id, max_values=40)
        assert len(grouped.cells) == 40 * 40 and (grouped.x_step, grouped.y_step) == (5, 25)
    tiny.close()
    engine.dispose()


def test_a_running_jobs_aggregate_is_reused_longer_when_it_took_longer(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A running job's aggregate (``LiveStamp``) is reused for 2 s, or 5 times as long as
    reading it took: many pages of one large running job share one read at a time."""
    from optimizer_app.persistence import tasks

    clock = {"now": 1000.0}
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock["now"])
    job = _RunningJob(db_url)
    job.store(0, 1.0)
    best, store = job.best, job.store

    assert best() == [(1.0, 0)]  # read at 1000 s, taking no time on this clock
    store(1, 2.0)
    clock["now"] += 1.5
    assert best() == [(1.0, 0)]  # within 2 s: kept
    clock["now"] += 1.0
    assert best() == [(1.0, 0), (2.0, 1)]  # 2.5 s later: read again
    with tasks._CELLS_LOCK:  # as if that read had taken 3 s: kept for 15 s
        for key, (cells, read_at, _took) in list(tasks._CELLS.items()):
            if key[0] == job.job_id:
                tasks._CELLS[key] = (cells, read_at, 3.0)
    store(2, 3.0)
    clock["now"] += 10.0
    assert best() == [(1.0, 0), (2.0, 1)]
    clock["now"] += 6.0
    assert best() == [(1.0, 0), (2.0, 1), (3.0, 2)]
    job.engine.dispose()


def test_pages_of_one_running_job_share_one_read(db_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages that refresh a running job's heatmap at once wait for the one read under way
    and share it: two reads of a large job at once could exhaust the readers' memory."""
    import threading
    import time as real_time

    from optimizer_app.persistence import tasks

    grid = build_grid("rsi_reversion", SPACE, cap=10_000)
    engine = build_engine(db_url)
    with Session(engine) as session:
        job_id = _job(session, grid)
        _store(session, job_id, grid, [0, 1], [1.0, 2.0], engine.dialect.name)
        session.commit()
    reads = []
    real = results_store.every_pair_cells

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(1)
        real_time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(results_store, "every_pair_cells", slow)
    found: list[list[tuple[float, int]]] = []

    def page() -> None:
        with Session(engine) as session:
            cells = best_by_pair(session=session, job_id=job_id, grid=grid, x_param="lower",
                                 y_param="upper", mode="max",
                                 stamp=tasks.LiveStamp("running"))
        found.append(sorted((c.score, c.index) for c in cells))

    pages = [threading.Thread(target=page) for _ in range(4)]
    for thread in pages:
        thread.start()
    for thread in pages:
        thread.join()
    assert len(reads) == 1
    assert found == [[(1.0, 0), (2.0, 1)]] * 4
    engine.dispose()


def test_while_a_running_jobs_read_is_under_way_other_pages_get_its_last_cells(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that asks while another page's read of the same running job is under way is
    answered at once with the cells read last, rather than waiting for a thread."""
    import threading
    import time as real_time

    from optimizer_app.persistence import tasks

    monkeypatch.setattr(tasks, "LIVE_REUSE_SECONDS", 0.0)  # every aggregate is stale at once
    monkeypatch.setattr(tasks, "LIVE_REUSE_FACTOR", 0.0)
    job = _RunningJob(db_url)
    job.store(0, 1.0)
    best = job.best
    assert best() == [(1.0, 0)]
    job.store(1, 2.0)
    started, real = threading.Event(), results_store.every_pair_cells

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        real_time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(results_store, "every_pair_cells", slow)
    reader_saw: list[list[tuple[float, int]]] = []
    reader = threading.Thread(target=lambda: reader_saw.append(best()))
    reader.start()
    assert started.wait(10)
    asked = real_time.monotonic()
    assert best() == [(1.0, 0)]  # the last cells, at once
    assert real_time.monotonic() - asked < 0.4
    reader.join()
    assert reader_saw == [[(1.0, 0), (2.0, 1)]]
    job.engine.dispose()


def test_reads_of_two_running_jobs_take_turns(db_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The readers' engine is shared by every job, so reads of two jobs' rows never run at
    once (two large ones could exhaust its memory together): a page of the second job shows
    its last cells while the first job's read is under way, or, with none yet, waits for it
    and then reads its own."""
    import threading
    import time as real_time

    from optimizer_app.persistence import tasks

    monkeypatch.setattr(tasks, "LIVE_REUSE_SECONDS", 0.0)  # every aggregate is stale at once
    monkeypatch.setattr(tasks, "LIVE_REUSE_FACTOR", 0.0)
    first, second, third = _RunningJob(db_url), _RunningJob(db_url), _RunningJob(db_url)
    for job in (first, second, third):
        job.store(0, 1.0)
    assert second.best() == [(1.0, 0)]
    second.store(1, 2.0)
    real, running, overlapped = results_store.every_pair_cells, [0], []
    started = threading.Event()

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        running[0] += 1
        overlapped.append(running[0] > 1)
        started.set()
        real_time.sleep(0.5)
        try:
            return real(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(results_store, "every_pair_cells", slow)
    saw: dict[str, list[tuple[float, int]]] = {}
    reader = threading.Thread(target=lambda: saw.update(first=first.best()))
    reader.start()
    assert started.wait(10)
    asked = real_time.monotonic()
    assert second.best() == [(1.0, 0)]  # its last cells, at once
    assert real_time.monotonic() - asked < 0.4
    waiter = threading.Thread(target=lambda: saw.update(third=third.best()))
    waiter.start()  # nothing kept for the third job: it waits its turn, then reads
    reader.join()
    waiter.join()
    assert saw == {"first": [(1.0, 0)], "third": [(1.0, 0)]}
    assert overlapped == [False, False]  # two reads, one after the other
    for job in (first, second, third):
        job.engine.dispose()

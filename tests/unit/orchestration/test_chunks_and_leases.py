from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import numpy as np
import psutil
import pytest

from optimizer_app.domain.jsontext import json_rows
from optimizer_app.orchestration.failures import describe_failure
from optimizer_app.orchestration.jobrun import FIRST_CHUNK, MAX_CHUNK, MIN_CHUNK, ChunkSizer
from optimizer_app.orchestration.leases import holder_is_gone, new_owner_id
from optimizer_app.orchestration.rows import (
    link_results,
    metric_dicts,
    metrics_json,
    task_id_hexes,
    task_rows,
)
from optimizer_app.persistence.models import TaskStatus
from optimizer_app.persistence.tasks import (
    RESULT_COLUMNS,
    TASK_COLUMNS,
    result_id_for,
    task_id_for,
)


def test_chunk_size_starts_small_and_grows_towards_the_target() -> None:
    sizer = ChunkSizer(target=0.5)
    assert sizer.size == FIRST_CHUNK
    sizer.observe(64, 0.064)  # 1 ms per combination → 500 wanted
    assert sizer.size == 500
    sizer.observe(500, 0.05)  # 0.1 ms per combination → 5,000 wanted
    assert sizer.size == 5000
    sizer = ChunkSizer(target=0.5)
    sizer.observe(64, 0.0064)  # 0.1 ms → 5,000 wanted, but growth is bounded per step
    assert sizer.size == FIRST_CHUNK * 16
    for _ in range(6):
        sizer.observe(sizer.size, sizer.size * 1e-5)  # a fast engine: 50,000 wanted
    assert sizer.size == MAX_CHUNK


def test_chunk_size_shrinks_when_work_gets_slower() -> None:
    sizer = ChunkSizer(target=0.5, size=1000)
    sizer.observe(1000, 10.0)  # 10 ms per combination → 50 wanted, at most ÷4 a step
    assert sizer.size == 250
    sizer.observe(250, 2.5)
    assert sizer.size == 62
    for _ in range(3):
        sizer.observe(sizer.size, sizer.size * 1.0)
    assert sizer.size == MIN_CHUNK


def test_the_last_combinations_are_split_evenly_over_the_workers() -> None:
    from optimizer_app.orchestration.jobrun import JobRun

    todo = np.arange(10_000)
    run = JobRun(
        job_id=uuid.uuid4(), strategy="s", raw_space={}, options={}, policy=None,  # type: ignore[arg-type]
        grid=None, bars=None, board=None, created_at=None, started=True,  # type: ignore[arg-type]
        sizer=ChunkSizer(target=0.5, size=4_000), done=np.zeros(10_000, dtype=bool), todo=todo,
    )
    sizes = []
    while (chunk := run.next_indices(workers=2)) is not None:
        sizes.append(len(chunk))
    assert sizes == [4_000, 3_000, 1_500, 750, 375, 188, 94, 64, 29]
    assert sum(sizes) == 10_000
    run.give_back(np.array([5, 6]))
    assert run.next_indices(workers=2).tolist() == [5, 6]  # type: ignore[union-attr]


def test_owner_ids_are_unique_and_name_this_process() -> None:
    a, b = new_owner_id(), new_owner_id()
    assert a != b and a.rsplit(":", 3)[1] == str(os.getpid())


def test_a_holder_is_gone_only_when_provably_dead() -> None:
    me = new_owner_id()
    host, pid, started, _ = me.rsplit(":", 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    parent = psutil.Process(os.getppid())
    parent_started = int(parent.create_time() * 1000)
    assert holder_is_gone(f"{host}:{dead.stdout.strip()}:1:abc", me=me)
    assert holder_is_gone(f"{host}:{pid}:{int(started) - 60_000}:abc", me=me)  # pid reused
    assert not holder_is_gone(f"{host}:{pid}:{started}:other", me=me)  # same process
    assert not holder_is_gone(f"{host}:{parent.pid}:{parent_started}:abc", me=me)  # alive
    assert not holder_is_gone(f"other-host:{dead.stdout.strip()}:1:abc", me=me)  # can't tell
    assert not holder_is_gone(me, me=me)
    assert not holder_is_gone(None, me=me)
    assert not holder_is_gone("garbage", me=me)


def test_task_ids_are_deterministic_ordered_uuids() -> None:
    job, other = uuid.uuid4(), uuid.uuid4()
    indices = [0, 1, 9, 10, 255, 99_999, 123_456_789, (1 << 62) - 1]
    ids = [task_id_for(job, i) for i in indices]
    assert task_id_hexes(job, indices) == [t.hex for t in ids]
    assert ids == [task_id_for(job, i) for i in indices]  # the same job and index, the same id
    assert [t.hex for t in ids] == sorted(t.hex for t in ids)  # stored in index order
    assert all(t.version == 8 and t.variant == uuid.RFC_4122 for t in ids)
    assert len({*ids, *(task_id_for(other, i) for i in indices)}) == 2 * len(indices)
    for bad in (-1, 1 << 62):
        with pytest.raises(ValueError, match="out of range"):
            task_id_for(job, bad)


def test_json_rows_are_compact_json_of_each_row() -> None:
    columns = {
        "a": np.array([1, -2, 3]), "b": np.array([0.1, 1e-7, 1e16]),
        "c": np.array([np.nan, 2.5, -0.0]), 'd%"': np.array([5e-324, -np.inf, 2.0**60]),
        "e": np.array([0.1 + 0.2, 1 / 3, 9.0]), "n": np.array([3.0, 4.0, np.nan]),
    }
    texts = json_rows(columns, 3, integers=frozenset({"n"}))
    assert texts[0] == (
        '{"a":1,"b":0.1,"c":null,"d%\\"":5e-324,"e":0.30000000000000004,"n":3}'
    )
    assert json.loads(texts[1]) == {"a": -2, "b": 1e-7, "c": 2.5, 'd%"': None, "e": 1 / 3,
                                    "n": 4}
    assert json.loads(texts[2])["n"] is None and json.loads(texts[2])["d%\""] == 2.0**60
    assert all(isinstance(t, str) and " " not in t for t in texts)
    assert json_rows({}, 2) == ["{}", "{}"]
    assert json_rows({"x": np.array([])}, 0) == []
    with pytest.raises(ValueError, match="3 values"):
        json_rows({"x": np.array([1.0, 2.0])}, 3)
    with pytest.raises(TypeError, match="numeric"):
        json_rows({"x": np.array(["a"])}, 1)


def test_json_rows_parse_to_exactly_the_values() -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal(2_000) * 10.0 ** rng.integers(-12, 12, 2_000)
    values[::97] = np.nan
    ints = rng.integers(-(10**12), 10**12, 2_000)
    texts = json_rows({"v": values, "i": ints}, 2_000)
    for text, v, i in zip(texts, values.tolist(), ints.tolist(), strict=True):
        assert json.loads(text) == {"v": None if v != v else v, "i": i}  # floats exact
        assert text.startswith('{"v":') and " " not in text


def test_rows_are_json_safe_and_deterministic() -> None:
    job = uuid.uuid4()
    raw = {"sharpe": np.array([1.5, np.nan]), "trades": np.array([3.0, np.inf])}
    metrics = metric_dicts(raw, np.array([0, 1]))
    assert metrics == [{"sharpe": 1.5, "trades": 3}, {"sharpe": None, "trades": None}]
    texts = metrics_json(raw, np.array([0, 1]))
    assert texts == ['{"sharpe":1.5,"trades":3}', '{"sharpe":null,"trades":null}']
    tasks = task_rows(
        job_id=job, indices=[4, 5], params=['{"a":1}', '{"a":2}'], status=TaskStatus.SUCCEEDED,
        scores=[1.5, None], metrics=texts, attempts=1, error=None, started_at="s",
        finished_at="f",
    )
    first = tasks.row_dict(0)
    assert set(first) == set(TASK_COLUMNS)
    assert first["id"] == task_id_for(job, 4).hex and first["index"] == 4
    assert first["job_id"] == job.hex and first["score"] == 1.5
    assert first["metrics"] == '{"sharpe":1.5,"trades":3}'
    assert first["params"] == '{"a":1}' and first["status"] == "succeeded"
    assert first["result_summary_id"] is None  # until it gets artifacts
    results = [dict(zip(RESULT_COLUMNS, row, strict=True))
               for row in link_results(tasks, {1: [{"name": "x"}]})]
    assert len(results) == 1  # only the task with artifacts has a result summary
    second = tasks.row_dict(1)
    assert second["result_summary_id"] == result_id_for(task_id_for(job, 5)).hex
    assert results[0]["id"] == second["result_summary_id"] and results[0]["task_id"] == second["id"]
    assert results[0]["metrics"] == '{"sharpe":null,"trades":null}'
    assert results[0]["artifacts"] == '[{"name":"x"}]'
    assert tasks.row_dict(0)["result_summary_id"] is None
    failed = task_rows(
        job_id=job, indices=[6], params=['{"a":3}'], status=TaskStatus.FAILED, scores=None,
        metrics=None, attempts=3, error="boom" * 1000, started_at="s", finished_at="f",
    )
    row = failed.row_dict(0)
    assert row["result_summary_id"] is None and len(row["error"]) == 2000
    assert row["metrics"] is None and row["score"] is None and row["attempts"] == 3


def test_failures_are_described_for_the_task_rows() -> None:
    message, killed = describe_failure(RuntimeError("injected"))
    assert (message, killed) == ("RuntimeError: injected", False)

    message, killed = describe_failure(KilledWorker("chunk-x"))
    assert killed and "worker processes died" in message


@pytest.mark.parametrize("size", [1, 7, 64])
def test_sizer_never_leaves_its_bounds(size: int) -> None:
    sizer = ChunkSizer(target=0.5)
    sizer.observe(size, 1e-9)
    assert MIN_CHUNK <= sizer.size <= MAX_CHUNK


class KilledWorker(Exception):
    pass


def test_a_chunk_around_dying_workers_is_suspect_until_it_kills_them_alone() -> None:
    from optimizer_app.orchestration.failures import Verdict, decide_cancelled, decide_error

    assert decide_error(KilledWorker("k"), alone=False).verdict is Verdict.SUSPECT
    assert decide_error(KilledWorker("k"), alone=True).verdict is Verdict.FAIL
    raised = decide_error(ValueError("bad"), alone=False)
    assert (raised.verdict, raised.message) == (Verdict.FAIL, "ValueError: bad")
    assert decide_cancelled(alone=False, connected=True).verdict is Verdict.SUSPECT
    assert decide_cancelled(alone=True, connected=True).verdict is Verdict.FAIL
    assert decide_cancelled(alone=True, connected=False).verdict is Verdict.RESEND

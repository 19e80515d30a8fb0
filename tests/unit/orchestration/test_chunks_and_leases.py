from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import numpy as np
import psutil
import pytest

from optimizer_app.domain.jsontext import json_rows, metric_lines, stored_metrics
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.domain.task_ids import task_id_for
from optimizer_app.orchestration.failures import describe_failure
from optimizer_app.orchestration.jobrun import (
    FIRST_CHUNK,
    MAX_CHUNK,
    MIN_CHUNK,
    MIN_PROBE,
    ChunkSizer,
)
from optimizer_app.orchestration.leases import holder_is_gone, new_owner_id
from optimizer_app.orchestration.rows import (
    link_results,
    metrics_of,
    task_id_hexes,
    task_rows,
)
from optimizer_app.persistence.models import TaskStatus
from optimizer_app.persistence.tasks import (
    RESULT_COLUMNS,
    TASK_COLUMNS,
    result_id_for,
)


def test_chunk_size_starts_small_and_grows_towards_the_target() -> None:
    sizer = ChunkSizer(target=0.5)
    assert sizer.size == FIRST_CHUNK and not sizer.observed
    sizer.observe(1024, 1.024)  # 1 ms per combination → 500 wanted
    assert sizer.size == 500 and sizer.observed
    sizer.observe(500, 0.1)  # 0.2 ms per combination → 2,500 wanted, at most ×4 a step
    assert sizer.size == 2000
    sizer.observe(2000, 0.4)
    assert sizer.size == 2500
    for _ in range(8):
        sizer.observe(sizer.size, sizer.size * 1e-6)  # a fast engine: 500,000 wanted
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


def _run(todo: int, sizer: ChunkSizer) -> object:
    from optimizer_app.domain.bitmask import BitMask
    from optimizer_app.domain.order import PendingOrder
    from optimizer_app.orchestration.jobrun import JobRun

    done = BitMask(todo)
    return JobRun(
        job_id=uuid.uuid4(), strategy="s", raw_space={}, options={}, policy=None,  # type: ignore[arg-type]
        grid=None, bars=None, board=None, created_at=None, started=True,  # type: ignore[arg-type]
        sizer=sizer, done=done, todo=PendingOrder(todo, "sequential", None, done),
    )


def _sizes(run: object, workers: int) -> list[int]:
    sizes = []
    while (chunk := run.next_indices(workers=workers)) is not None:  # type: ignore[attr-defined]
        sizes.append(len(chunk))
    return sizes


def test_the_last_combinations_are_split_evenly_over_the_workers() -> None:
    run = _run(10_000, ChunkSizer(target=0.5, size=4_000, observed=True))
    sizes = _sizes(run, workers=2)
    assert sizes == [4_000, 3_000, 1_500, 750, 750]  # halving, down to an eighth of a chunk
    assert sum(sizes) == 10_000
    assert _sizes(_run(4_100, ChunkSizer(target=0.5, size=4_000, observed=True)), 1) == [4_100]
    run.give_back(np.array([5, 6]))  # type: ignore[attr-defined]
    assert run.next_indices(workers=2).tolist() == [5, 6]  # type: ignore[attr-defined]


def test_first_chunks_are_probes_spread_over_the_workers() -> None:
    medium = _sizes(_run(1_000, ChunkSizer(target=0.5)), workers=2)
    assert medium[0] == 125 and sum(medium) == 1_000  # 1,000 / (4 per worker × 2 workers)
    large = _run(100_000, ChunkSizer(target=0.5))
    assert large.next_indices(workers=2).size == FIRST_CHUNK  # type: ignore[attr-defined]


def test_a_probe_is_never_smaller_than_its_fixed_cost_repays() -> None:
    assert _sizes(_run(20, ChunkSizer(target=0.5)), workers=2) == [20]  # one chunk, not 8 + 12
    assert _sizes(_run(MIN_PROBE, ChunkSizer(target=0.5)), workers=2) == [MIN_PROBE]
    small = _sizes(_run(175, ChunkSizer(target=0.5)), workers=2)
    assert small[0] == MIN_PROBE and sum(small) == 175


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


def _metrics(**values: float) -> dict[str, np.ndarray]:
    return {key: np.array(values.get(key, [0.5, 0.5])) for key in METRIC_KEYS}


def test_metrics_are_stored_as_compact_arrays_and_read_by_name() -> None:
    raw = _metrics(sharpe=[1.5, np.nan], trades=[3.0, 0.0], cagr=[np.inf, -0.0],
                   finalEquity=[0.1 + 0.2, 1e300])
    texts = metric_lines(raw, 2).split("\n")
    assert len(texts) == 2 and all(t.startswith("[") and t.endswith("]") for t in texts)
    first, second = (metrics_of(t) for t in texts)
    assert list(first) == list(METRIC_KEYS)
    assert first["sharpe"] == 1.5 and first["trades"] == 3 and isinstance(first["trades"], int)
    assert first["cagr"] is None and first["finalEquity"] == 0.1 + 0.2  # exact round trip
    assert second["sharpe"] is None and second["finalEquity"] == 1e300
    assert stored_metrics({"sharpe": 1.0}) == {"sharpe": 1.0}  # rows written as objects
    assert stored_metrics(None) is None and metric_lines(raw, 0) == ""
    with pytest.raises(ValueError, match="metric values"):
        stored_metrics([1.0, 2.0])
    with pytest.raises(ValueError, match="3 values"):
        metric_lines(raw, 3)


def test_rows_are_json_safe_and_deterministic() -> None:
    job = uuid.uuid4()
    texts = metric_lines(_metrics(sharpe=[1.5, np.nan], trades=[3.0, 0.0]), 2).split("\n")
    tasks = task_rows(
        job_id=job, indices=[4, 5], params=['{"a":1}', '{"a":2}'], status=TaskStatus.SUCCEEDED,
        scores=[1.5, None], metrics=texts, attempts=1, error=None, started_at="s",
        finished_at="f",
    )
    first = tasks.row_dict(0)
    assert set(first) == set(TASK_COLUMNS)
    assert first["id"] == task_id_for(job, 4).hex and first["index"] == 4
    assert first["job_id"] == job.hex and first["score"] == 1.5
    assert first["metrics"] == texts[0]
    assert first["params"] == '{"a":1}' and first["status"] == "succeeded"
    assert first["result_summary_id"] is None  # until it gets artifacts
    results = [dict(zip(RESULT_COLUMNS, row, strict=True))
               for row in link_results(tasks, {1: [{"name": "x"}]})]
    assert len(results) == 1  # only the task with artifacts has a result summary
    second = tasks.row_dict(1)
    assert second["result_summary_id"] == result_id_for(task_id_for(job, 5)).hex
    assert results[0]["id"] == second["result_summary_id"] and results[0]["task_id"] == second["id"]
    assert json.loads(results[0]["metrics"]) == metrics_of(texts[1])  # by name
    assert json.loads(results[0]["metrics"])["sharpe"] is None
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


def test_failed_chunks_carry_their_category() -> None:
    from optimizer_app.orchestration.failures import decide_cancelled, decide_error

    assert decide_error(KilledWorker("k"), alone=True).category == "lost"
    assert decide_cancelled(alone=True, connected=True).category == "lost"
    assert decide_error(ValueError("bad"), alone=False).category == "strategy"
    assert decide_error(MemoryError(), alone=False).category == "resource"
    disk = decide_error(OSError(28, "No space left on device"), alone=False)
    assert disk.category == "resource" and "disk is full" in disk.message


WAIT_UNDER_SIGNALS = """
import os, signal, threading, time
from optimizer_app.orchestration.orchestrator import Orchestrator

class Stub:  # the executor's attributes the constructor reads
    chunk_function = None
    generation = 0

orchestrator = Orchestrator(executor=Stub(), chunk_function=lambda *a: None)
hits = []

def handler(signum, frame):
    hits.append(signum)
    time.sleep(0.02)  # longer than the wait it interrupts

signal.signal(signal.SIGUSR1, handler)

def send():
    for _ in range(100):
        time.sleep(0.003)
        os.kill(os.getpid(), signal.SIGUSR1)

threading.Thread(target=send, daemon=True).start()
while len(hits) < 100:
    assert orchestrator._next_completed(0.01) is None
print("waited through", len(hits), "signals")
"""


def test_waiting_for_results_never_hangs_when_a_signal_arrives() -> None:
    """A stop signal arrives while the orchestrator waits for finished chunks: the wait still
    ends (a SimpleQueue's timed get blocked forever here, and SIGTERM never stopped it)."""
    done = subprocess.run([sys.executable, "-c", WAIT_UNDER_SIGNALS], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "waited through 100 signals" in done.stdout

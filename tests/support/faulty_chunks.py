"""Chunk functions for fault-injection tests. They run on Dask workers (which import this
module by name), wrapping the real ``run_chunk``."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.worker import ChunkResult, ChunkTask, run_chunk
from tests.support import failing_strategy

SECONDS_PER_COMBINATION = 0.002
FAULTY_INDEX = 100
STALL_SECONDS = 4.0
# Where ``spilling_chunk`` writes scratch data: the test mounts a small full disk here.
SCRATCH_DIR = Path(tempfile.gettempdir()) / "optimizer-test-scratch"


def _contains(task: ChunkTask, index: int) -> bool:
    return bool(np.any(np.asarray(task.indices) == index))


def slow_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The real chunk, plus 2 ms per combination: jobs that last long enough to interrupt."""
    failing_strategy.register()  # on the worker that runs it
    time.sleep(SECONDS_PER_COMBINATION * len(task.indices))
    result = run_chunk(task, bars)
    result.elapsed += SECONDS_PER_COMBINATION * len(task.indices)
    return result


def raising_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """Raises for the chunk holding combination ``FAULTY_INDEX``, every time."""
    failing_strategy.register()  # on the worker that runs it
    if _contains(task, FAULTY_INDEX):
        raise RuntimeError(f"injected failure at combination {FAULTY_INDEX}")
    return slow_chunk(task, bars)


def poison_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """Kills the worker process running the chunk holding ``FAULTY_INDEX``, every time."""
    failing_strategy.register()  # on the worker that runs it
    if _contains(task, FAULTY_INDEX):
        os._exit(13)
    return slow_chunk(task, bars)


def plain_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The real chunk (run from this module so that workers register the failing strategy)."""
    failing_strategy.register()  # on the worker that runs it
    return run_chunk(task, bars)


def holed_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The real chunk; the one holding ``FAULTY_INDEX`` gets bars with a hole (a stretch of
    missing closes), as a window of a dataset with a gap would give it."""
    failing_strategy.register()  # on the worker that runs it
    if _contains(task, FAULTY_INDEX):
        close = bars.close.copy()
        close[len(close) // 3 : len(close) // 3 + 20] = np.nan
        bars = dataclasses.replace(bars, close=close)
    return slow_chunk(task, bars)


def stalling_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The chunk holding ``FAULTY_INDEX`` stalls for ``STALL_SECONDS`` first."""
    failing_strategy.register()  # on the worker that runs it
    if _contains(task, FAULTY_INDEX):
        time.sleep(STALL_SECONDS)
    return slow_chunk(task, bars)


def spilling_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The chunk holding ``FAULTY_INDEX`` spills 1 MiB of scratch data to ``SCRATCH_DIR``
    (a full disk in the test: the write raises ENOSPC)."""
    failing_strategy.register()  # on the worker that runs it
    if _contains(task, FAULTY_INDEX):
        with open(SCRATCH_DIR / f"spill-{os.getpid()}.bin", "wb") as handle:
            handle.write(b"\0" * (1 << 20))
            handle.flush()
            os.fsync(handle.fileno())
    return slow_chunk(task, bars)


def greedy_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The real chunk, making artifacts for three times the job's Top-N and ignoring the
    threshold: most of them cannot enter the Top-N (as when the board moves on while a chunk
    runs)."""
    return run_chunk(dataclasses.replace(task, top_n=3 * task.top_n, threshold=None), bars)

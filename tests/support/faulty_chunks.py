"""Chunk functions for fault-injection tests. They run on Dask workers (which import this
module by name), wrapping the real ``run_chunk``."""

from __future__ import annotations

import os
import time

import numpy as np

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.worker import ChunkResult, ChunkTask, run_chunk

SECONDS_PER_COMBINATION = 0.002
FAULTY_INDEX = 100


def _contains(task: ChunkTask, index: int) -> bool:
    return bool(np.any(np.asarray(task.indices) == index))


def slow_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """The real chunk, plus 2 ms per combination: jobs that last long enough to interrupt."""
    time.sleep(SECONDS_PER_COMBINATION * len(task.indices))
    result = run_chunk(task, bars)
    result.elapsed += SECONDS_PER_COMBINATION * len(task.indices)
    return result


def raising_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """Raises for the chunk holding combination ``FAULTY_INDEX``, every time."""
    if _contains(task, FAULTY_INDEX):
        raise RuntimeError(f"injected failure at combination {FAULTY_INDEX}")
    return slow_chunk(task, bars)


def poison_chunk(task: ChunkTask, bars: Bars) -> ChunkResult:
    """Kills the worker process running the chunk holding ``FAULTY_INDEX``, every time."""
    if _contains(task, FAULTY_INDEX):
        os._exit(13)
    return slow_chunk(task, bars)

"""What an orchestrator keeps in memory for one job it holds.

Memory is flat in the grid size apart from one byte per combination (the ``done`` map) and
the array of combinations still to send; results are written and dropped chunk by chunk."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from optimizer_app.domain.bitmask import BitMask
from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.grid import Grid
from optimizer_app.domain.order import PendingOrder
from optimizer_app.domain.policy import EarlyStopPolicy
from optimizer_app.domain.validation import Window, slice_bars
from optimizer_app.orchestration.board import Board

FIRST_CHUNK = 1024
PROBES_PER_WORKER = 4  # a small job's first chunks still spread over every worker
# ... but no probe is smaller than this: a chunk has a fixed cost (a task on a worker, a
# results file, a write transaction; ~20-30 ms together) that a few combinations (~10 us-1 ms
# each) do not repay. A job of up to this many combinations runs as one chunk.
MIN_PROBE = 64
MIN_CHUNK = 8
MAX_CHUNK = 65_536  # rows per chunk file (workers write them; the orchestrator commits a name)
MAX_GROWTH = 4.0
MAX_SHRINK = 4.0


@dataclass
class ChunkSizer:
    """Chunk size steered towards ``target`` seconds of work per chunk: each finished chunk
    proposes ``its size × target / its elapsed`` (elapsed without the chunk's artifacts, a
    cost that falls as the Top-N fills; a cold worker's elapsed includes one-off costs, so
    this errs small), and the size moves there by at most ×4 or ÷4 a step. The first chunks
    are probes (see ``JobRun.next_indices``): one per worker, then ×4 and ×4 again reach the
    largest chunks while the first results are already being written."""

    target: float
    size: int = FIRST_CHUNK
    observed: bool = False  # until a chunk finished, a job keeps one chunk per worker in flight

    def observe(self, combinations: int, elapsed: float) -> None:
        if combinations <= 0:
            return
        self.observed = True
        wanted = combinations * self.target / max(elapsed, 1e-6)
        bounded = min(max(wanted, self.size / MAX_SHRINK), self.size * MAX_GROWTH)
        self.size = int(max(MIN_CHUNK, min(MAX_CHUNK, bounded)))


@dataclass
class JobRun:
    job_id: uuid.UUID
    strategy: str
    raw_space: dict[str, Any]
    options: dict[str, Any]
    policy: EarlyStopPolicy
    grid: Grid
    bars: Bars
    board: Board
    created_at: datetime
    started: bool
    sizer: ChunkSizer
    done: BitMask  # per combination index: its result is stored (or it is not to run)
    todo: PendingOrder  # combinations not stored when the job was taken, in run order
    cursor: int = 0
    retry: deque[np.ndarray] = field(default_factory=deque)
    in_flight: dict[str, np.ndarray] = field(default_factory=dict)  # future key -> indices
    suspects: deque[np.ndarray] = field(default_factory=deque)  # to run again alone
    data_future: Any = None
    data_generation: int = -1
    chunks_sent: int = 0
    constraints: list[dict[str, Any]] = field(default_factory=list)  # result constraints
    # The grid indices this job runs when it runs only some (a re-run of failed ones); the
    # others are marked done in ``done`` from the start.
    subset: np.ndarray | None = None
    owner_id: uuid.UUID | None = None
    worker_share: float = 1.0  # of the workers' capacity while other users' work waits
    # Walk-forward: combinations per fold and each fold's training window (start, stop) in
    # ``bars``; 0 and empty for other jobs (see ``domain.validation.FoldedGrid``).
    fold_size: int = 0
    windows: list[tuple[int, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.grid.total if self.subset is None else len(self.subset)

    def bars_for(self, index: int) -> Bars:
        """The bars combination ``index`` is scored on (its fold's training window)."""
        if not self.fold_size:
            return self.bars
        start, stop = self.windows[index // self.fold_size]
        return slice_bars(self.bars, Window(start, stop))

    def has_unsent(self) -> bool:
        return bool(self.retry) or bool(self.suspects) or self.cursor < len(self.todo)

    def is_complete(self) -> bool:
        return not self.has_unsent() and not self.in_flight

    def next_indices(self, *, workers: int = 1) -> np.ndarray | None:
        """The next chunk of combinations to send (retries first), or None. Until a chunk
        came back, chunks are probes no larger than a ``PROBES_PER_WORKER``-th share of the
        job per worker (and no smaller than ``MIN_PROBE``); near the end the rest is split
        evenly over the ``workers`` (down to an eighth of a chunk) so that they finish
        together."""
        if self.retry:
            return self.retry.popleft()
        remaining = len(self.todo) - self.cursor
        if remaining <= 0:
            return None
        workers = max(1, workers)
        size = self.sizer.size
        if not self.sizer.observed:
            size = min(size, max(MIN_PROBE, -(-len(self.todo) // (PROBES_PER_WORKER * workers))))
        floor = max(size // 8, MIN_CHUNK if self.sizer.observed else MIN_PROBE)
        size = min(size, max(-(-remaining // workers), floor))
        if remaining - size < floor:
            size = remaining  # no scrap of a chunk left over
        chunk = np.sort(self.todo.take(size))  # a chunk runs in index order
        self.cursor += size
        if not chunk.size:  # the rest was withdrawn (a walk-forward fold that stopped)
            self.cursor = len(self.todo)
            return None
        return chunk

    def give_back(self, indices: np.ndarray) -> None:
        """Send these combinations again (their chunk was lost with the scheduler)."""
        remaining = indices[~self.done[indices]]
        if remaining.size:
            self.retry.append(remaining)

    def mark_done(self, indices: np.ndarray) -> None:
        self.done[indices] = True

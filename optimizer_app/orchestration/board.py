"""The live leaderboard of a job and the counters its early-stop rules read, kept
incrementally: one result at a time, never by re-reading every task.

Its state round-trips through ``OptimizationJob.summary``: ``total``, ``finished``,
``failed``, ``topN`` (best first) and ``sinceBest`` (finished tasks since the best score last
improved), so an orchestrator that takes a job over resumes exactly where the last write
left it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from optimizer_app.orchestration.folds import FoldBoards

Mode = Literal["max", "min"]


def is_score(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def better(a: float, b: float, mode: Mode) -> bool:
    """Whether score ``a`` is strictly better than ``b``."""
    return a > b if mode == "max" else a < b


@dataclass
class Entry:
    task_id: str
    index: int
    score: float
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "index": self.index,
            "score": self.score,
            "params": self.params,
            "metrics": self.metrics,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Entry:
        return cls(
            task_id=str(raw["taskId"]),
            index=int(raw["index"]),
            score=float(raw["score"]),
            params=dict(raw.get("params") or {}),
            metrics=dict(raw.get("metrics") or {}),
        )


BEST_HISTORY_LIMIT = 256


@dataclass
class Board:
    mode: Mode
    top_n: int
    total: int
    finished: int = 0
    failed: int = 0
    constrained: int = 0  # finished (counted in ``finished``) but failed a result constraint
    # failed tasks by category (domain.failures): counted with ``failed``, in the same write
    failures: dict[str, int] = field(default_factory=dict)
    since_best: int = 0
    entries: list[Entry] = field(default_factory=list)
    # (finished tasks, best score) each time the best improved, thinned to a bounded size
    best_history: list[tuple[int, float]] = field(default_factory=list)
    # a walk-forward job's progress per fold (its stop rules apply per fold)
    folds: FoldBoards | None = None

    # -- reading --------------------------------------------------------------------------

    @property
    def best(self) -> float | None:
        return self.entries[0].score if self.entries else None

    @property
    def threshold(self) -> float | None:
        """The score a result must beat to enter the board (``None`` while it is not full)."""
        if len(self.entries) < self.top_n:
            return None
        return self.entries[-1].score

    @property
    def done(self) -> int:
        return self.finished + self.failed

    def would_enter(self, score: float | None) -> bool:
        if not is_score(score):
            return False
        threshold = self.threshold
        return threshold is None or better(float(score), threshold, self.mode)  # type: ignore[arg-type]

    # -- updating -------------------------------------------------------------------------

    def record(self, scores: Sequence[float | None] | np.ndarray) -> None:
        """Count finished tasks, in the order they count as finished (index order within a
        chunk), and track how many finished since the best score last improved. A task
        without a finite score (None, NaN, ±inf) finishes but never improves the best."""
        values = np.asarray(scores, dtype=np.float64)
        if not values.size:
            return
        # Work on "higher is better" keys; a non-finite score can never be a new best.
        keys = values if self.mode == "max" else -values
        keys = np.where(np.isfinite(keys), keys, -np.inf)
        best = self.best
        start = -np.inf if best is None else (best if self.mode == "max" else -best)
        before = np.maximum.accumulate(np.concatenate(([start], keys[:-1])))
        improved = np.flatnonzero(keys > before)
        for position in improved.tolist():
            self._note_best(self.finished + position + 1, float(values[position]))
        if improved.size:
            self.since_best = int(values.size - 1 - improved[-1])
        else:
            self.since_best += int(values.size)
        self.finished += int(values.size)

    def offer(self, entry: Entry) -> bool:
        """Put ``entry`` (an already recorded result) on the board if its score earns a
        place; return whether it entered. Offering a chunk's results best first means only
        its own best ``top_n`` can enter."""
        if not self.would_enter(entry.score):
            return False
        self._insert(entry)
        return True

    def _note_best(self, finished: int, best: float) -> None:
        self.best_history.append((finished, best))
        if len(self.best_history) > BEST_HISTORY_LIMIT:
            # Keep the first and last improvement and every other one between: the curve's
            # shape stays, the summary stays small.
            last = self.best_history[-1]
            self.best_history = self.best_history[:-1:2] + [last]

    def add_constrained(self, count: int) -> None:
        """Count finished combinations that failed a result constraint: finished, never
        ranked, and not counted by the patience rule."""
        self.finished += count
        self.constrained += count

    def add_failures(self, count: int, category: str | None = None) -> None:
        self.failed += count
        if category and count:
            self.failures[category] = self.failures.get(category, 0) + count

    def _insert(self, entry: Entry) -> None:
        position = len(self.entries)
        for i, other in enumerate(self.entries):
            if better(entry.score, other.score, self.mode) or (
                entry.score == other.score and entry.index < other.index
            ):
                position = i
                break
        self.entries.insert(position, entry)
        del self.entries[self.top_n :]

    def copy(self) -> Board:
        return Board(
            mode=self.mode,
            top_n=self.top_n,
            total=self.total,
            finished=self.finished,
            failed=self.failed,
            constrained=self.constrained,
            failures=dict(self.failures),
            since_best=self.since_best,
            entries=list(self.entries),
            best_history=list(self.best_history),
            folds=self.folds.copy() if self.folds is not None else None,
        )

    # -- persistence ----------------------------------------------------------------------

    def to_summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "finished": self.finished,
            "failed": self.failed,
            "constrained": self.constrained,
            "failures": dict(self.failures),
            "topN": [e.to_json() for e in self.entries],
            "sinceBest": self.since_best,
            "bestHistory": [[finished, score] for finished, score in self.best_history],
            **({"folds": self.folds.to_json()} if self.folds is not None else {}),
        }

    @classmethod
    def from_summary(cls, summary: dict[str, Any] | None, *, mode: Mode, top_n: int, total: int) -> Board:
        summary = summary or {}
        entries = [Entry.from_json(raw) for raw in summary.get("topN") or []]
        board = cls(
            mode=mode,
            top_n=top_n,
            total=total,
            finished=int(summary.get("finished") or 0),
            failed=int(summary.get("failed") or 0),
            constrained=int(summary.get("constrained") or 0),
            failures={str(k): int(v) for k, v in (summary.get("failures") or {}).items()},
            since_best=int(summary.get("sinceBest") or 0),
            best_history=[
                (int(finished), float(score))
                for finished, score in summary.get("bestHistory") or []
            ],
        )
        for entry in entries:
            board._insert(entry)
        return board


def empty_summary(total: int) -> dict[str, Any]:
    return {
        "total": total,
        "finished": 0,
        "failed": 0,
        "constrained": 0,
        "failures": {},
        "topN": [],
        "sinceBest": 0,
        "bestHistory": [],
    }

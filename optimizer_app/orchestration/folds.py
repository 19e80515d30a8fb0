"""Early stop per fold of a walk-forward job.

A walk-forward job's combinations are folds × grid (combination ``fold × size + i``), and each
fold is its own search: the job's stop rules (target score, patience, minimum tasks) apply to
each fold on its own results. A fold whose rule trips stops — its combinations not run yet
are withdrawn and counted as skipped — while the other folds go on; the job ends when every
fold has finished or stopped. The progress of every fold travels in the job's summary
(``folds``), written in the same transaction as each chunk, so a resumed job knows which
folds stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optimizer_app.domain.policy import EarlyStopPolicy, stop_reason

__all__ = ["FoldBoards", "FoldProgress"]


@dataclass
class FoldProgress:
    finished: int = 0  # succeeded (also those failing a result constraint)
    failed: int = 0
    best: float | None = None  # among combinations that pass the result constraints
    since_best: int = 0
    stopped: str | None = None  # why the fold stopped early
    skipped: int = 0  # combinations withdrawn when it stopped

    def to_json(self) -> dict[str, Any]:
        return {"finished": self.finished, "failed": self.failed, "best": self.best,
                "sinceBest": self.since_best, "stopped": self.stopped, "skipped": self.skipped}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FoldProgress:
        best = raw.get("best")
        return cls(finished=int(raw.get("finished") or 0), failed=int(raw.get("failed") or 0),
                   best=None if best is None else float(best),
                   since_best=int(raw.get("sinceBest") or 0), stopped=raw.get("stopped"),
                   skipped=int(raw.get("skipped") or 0))


@dataclass
class FoldBoards:
    size: int  # combinations per fold
    mode: str
    folds: list[FoldProgress] = field(default_factory=list)

    @classmethod
    def empty(cls, *, size: int, count: int, mode: str) -> FoldBoards:
        return cls(size=size, mode=mode, folds=[FoldProgress() for _ in range(count)])

    @property
    def skipped(self) -> int:
        return sum(fold.skipped for fold in self.folds)

    def copy(self) -> FoldBoards:
        return FoldBoards(size=self.size, mode=self.mode,
                          folds=[replace(fold) for fold in self.folds])

    def record_finished(self, indices: np.ndarray, scores: np.ndarray, passes: np.ndarray
                        ) -> None:
        """Count finished combinations (``indices`` in the order they count, their raw
        scores, whether each passes the result constraints) fold by fold."""
        folds = np.asarray(indices, dtype=np.int64) // self.size
        for k in np.unique(folds).tolist():
            mask = folds == k
            fold = self.folds[k]
            fold.finished += int(mask.sum())
            for score in np.asarray(scores, dtype=np.float64)[mask & passes].tolist():
                if math.isfinite(score) and (
                    fold.best is None or (score > fold.best if self.mode == "max"
                                          else score < fold.best)):
                    fold.best, fold.since_best = score, 0
                else:
                    fold.since_best += 1

    def record_failed(self, indices: np.ndarray) -> None:
        folds = np.asarray(indices, dtype=np.int64) // self.size
        for k, count in zip(*np.unique(folds, return_counts=True), strict=True):
            self.folds[int(k)].failed += int(count)

    def stop(self, policy: EarlyStopPolicy, pending: np.ndarray) -> dict[int, np.ndarray]:
        """Stop every running fold whose rule trips; ``pending`` marks the combinations not
        stored (nor being stored). Returns the combinations each stopped fold withdraws."""
        withdrawn: dict[int, np.ndarray] = {}
        for k, fold in enumerate(self.folds):
            if fold.stopped:
                continue
            reason = stop_reason(policy, finished=fold.finished, best=fold.best,
                                 since_best=fold.since_best)
            if reason is None:
                continue
            start = k * self.size
            left = start + np.flatnonzero(pending[start:start + self.size])
            if not len(left):
                continue  # it ran everything: finished, not stopped
            fold.stopped, fold.skipped = reason, int(len(left))
            withdrawn[k] = left
        return withdrawn

    def reason(self) -> str | None:
        """The job's stop reason when folds stopped early (None: none did)."""
        stopped = [f"fold {k + 1}: {fold.stopped}" for k, fold in enumerate(self.folds)
                   if fold.stopped]
        return "; ".join(stopped) if stopped else None

    def to_json(self) -> list[dict[str, Any]]:
        return [fold.to_json() for fold in self.folds]

    @classmethod
    def from_json(cls, raw: list[dict[str, Any]], *, size: int, mode: str) -> FoldBoards:
        return cls(size=size, mode=mode, folds=[FoldProgress.from_json(r) for r in raw])

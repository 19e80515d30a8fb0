"""Early stop per fold: each fold's progress and rules on its own results."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain.policy import EarlyStopPolicy
from optimizer_app.orchestration.folds import FoldBoards


def test_each_fold_counts_its_own_results_and_stops_on_its_own() -> None:
    boards = FoldBoards.empty(size=10, count=3, mode="max")
    # fold 0 improves then stalls; fold 1 keeps improving; fold 2 nothing yet
    boards.record_finished(np.array([0, 1, 2, 3, 4, 5, 10, 11, 12]),
                           np.array([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.1, 0.2, 0.3]),
                           np.array([True] * 9))
    boards.record_failed(np.array([6]))
    first, second, third = boards.folds
    assert (first.finished, first.failed, first.best, first.since_best) == (6, 1, 0.5, 5)
    assert (second.finished, second.best, second.since_best) == (3, 0.3, 0)
    assert third.finished == 0
    policy = EarlyStopPolicy.model_validate(
        {"mode": "max", "metric": "sharpe", "topN": 3, "patience": 4, "minTasks": 3})
    pending = np.ones(30, dtype=bool)
    pending[[0, 1, 2, 3, 4, 5, 6, 10, 11, 12]] = False
    withdrawn = boards.stop(policy, pending)
    assert list(withdrawn) == [0] and withdrawn[0].tolist() == [7, 8, 9]
    assert first.stopped and "patience" in first.stopped and first.skipped == 3
    assert second.stopped is None and boards.skipped == 3
    assert boards.reason() == f"fold 1: {first.stopped}"
    # a stopped fold stays stopped, and the state round-trips through the summary
    again = FoldBoards.from_json(boards.to_json(), size=10, mode="max")
    assert again.to_json() == boards.to_json() and again.stop(policy, pending) == {}


def test_constrained_rows_count_as_finished_but_not_for_the_rules() -> None:
    boards = FoldBoards.empty(size=5, count=1, mode="min")
    boards.record_finished(np.array([0, 1, 2]), np.array([0.3, 0.1, np.nan]),
                           np.array([True, False, True]))
    fold = boards.folds[0]
    assert (fold.finished, fold.best, fold.since_best) == (3, 0.3, 1)
    copy = boards.copy()
    copy.folds[0].finished = 99
    assert boards.folds[0].finished == 3


def test_a_fold_that_ran_everything_finished_rather_than_stopped() -> None:
    boards = FoldBoards.empty(size=3, count=1, mode="max")
    boards.record_finished(np.array([0, 1, 2]), np.array([1.0, 0.5, 0.2]),
                           np.array([True] * 3))
    policy = EarlyStopPolicy.model_validate(
        {"mode": "max", "metric": "sharpe", "topN": 3, "patience": 1})
    assert boards.stop(policy, np.zeros(3, dtype=bool)) == {}
    assert boards.folds[0].stopped is None and boards.reason() is None

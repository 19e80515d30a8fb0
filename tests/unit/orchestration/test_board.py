from __future__ import annotations

import math
import random

import pytest

from optimizer_app.domain.policy import EarlyStopPolicy, stop_reason
from optimizer_app.orchestration.board import Board, Entry, better, empty_summary


def entry(index: int, score: float) -> Entry:
    return Entry(task_id=f"t{index}", index=index, score=score, params={"p": index})


def feed(board: Board, scores: list[float | None], start: int = 0) -> None:
    """One chunk, as the writer does it: record in index order, offer best first."""
    board.record(scores)
    ranked = sorted(
        (i for i, s in enumerate(scores) if s is not None and math.isfinite(s)),
        key=lambda i: ((-1 if board.mode == "max" else 1) * scores[i], i),  # type: ignore[operator]
    )
    for i in ranked:
        if not board.offer(entry(start + i, scores[i])):  # type: ignore[arg-type]
            break


@pytest.mark.parametrize("mode", ["max", "min"])
def test_top_n_keeps_the_best_in_order(mode: str) -> None:
    rng = random.Random(7)
    scores = [rng.uniform(-3, 3) for _ in range(500)]
    board = Board(mode=mode, top_n=10, total=500)  # type: ignore[arg-type]
    for start in range(0, 500, 64):
        feed(board, scores[start : start + 64], start)
    expected = sorted(range(500), key=lambda i: scores[i], reverse=mode == "max")[:10]
    assert [e.index for e in board.entries] == expected
    ranked = [e.score for e in board.entries]
    assert ranked == sorted(ranked, reverse=mode == "max")
    assert board.best == scores[expected[0]]
    assert board.threshold == scores[expected[-1]]
    assert board.finished == 500


def test_scores_that_are_not_numbers_finish_but_never_rank() -> None:
    board = Board(mode="max", top_n=3, total=4)
    feed(board, [None, float("nan"), 1.0, float("inf")])
    assert [e.index for e in board.entries] == [2]
    assert board.finished == 4


def test_a_tie_at_the_threshold_does_not_displace() -> None:
    board = Board(mode="min", top_n=2, total=4)
    feed(board, [1.0, 2.0])
    feed(board, [2.0, 0.5], start=2)
    assert [(e.index, e.score) for e in board.entries] == [(3, 0.5), (0, 1.0)]


def test_threshold_is_none_until_the_board_is_full() -> None:
    board = Board(mode="max", top_n=3, total=10)
    feed(board, [1.0, 2.0])
    assert board.threshold is None
    assert board.would_enter(-100.0)
    feed(board, [0.5], start=2)
    assert board.threshold == 0.5
    assert not board.would_enter(0.5) and board.would_enter(0.6)


def test_since_best_counts_in_index_order_within_a_chunk() -> None:
    board = Board(mode="max", top_n=5, total=10)
    feed(board, [1.0, 3.0, 2.0, 2.5])
    assert board.since_best == 2  # the best (index 1) was followed by two tasks
    feed(board, [None, 3.0], start=4)  # an equal score is not a new best
    assert board.since_best == 4
    feed(board, [3.5], start=6)
    assert board.since_best == 0


def test_failures_count_separately() -> None:
    board = Board(mode="max", top_n=5, total=10)
    feed(board, [1.0])
    board.add_failures(3)
    assert (board.finished, board.failed, board.done) == (1, 3, 4)
    assert board.since_best == 0


def test_summary_round_trip_restores_the_same_board() -> None:
    board = Board(mode="min", top_n=3, total=20)
    feed(board, [5.0, 1.0, 3.0, 2.0, 4.0])
    board.add_failures(2)
    summary = board.to_summary()
    assert summary["topN"][0] == {
        "taskId": "t1", "index": 1, "score": 1.0, "params": {"p": 1}, "metrics": {}
    }
    again = Board.from_summary(summary, mode="min", top_n=3, total=20)
    assert again.to_summary() == summary
    assert empty_summary(20) == Board(mode="min", top_n=3, total=20).to_summary()


def test_copy_is_independent() -> None:
    board = Board(mode="max", top_n=2, total=10)
    feed(board, [1.0])
    other = board.copy()
    feed(other, [9.0, 8.0], start=1)
    assert [e.index for e in board.entries] == [0]
    assert board.finished == 1


def test_better_is_strict() -> None:
    assert better(2.0, 1.0, "max") and not better(1.0, 1.0, "max")
    assert better(1.0, 2.0, "min") and not better(2.0, 2.0, "min")


# -- early stop with the board's counters ----------------------------------------------------


def policy(**rules: object) -> EarlyStopPolicy:
    return EarlyStopPolicy.model_validate({"mode": "max", "metric": "sharpe", **rules})


def reason(board: Board, rules: EarlyStopPolicy) -> str | None:
    return stop_reason(rules, finished=board.finished, best=board.best, since_best=board.since_best)


def test_target_score_stops_once_the_best_reaches_it() -> None:
    rules = policy(targetScore=2.0)
    board = Board(mode="max", top_n=3, total=100)
    feed(board, [0.5, 1.9])
    assert reason(board, rules) is None
    feed(board, [2.0], start=2)
    assert "target score 2 reached" in (reason(board, rules) or "")


def test_target_score_in_min_mode() -> None:
    rules = EarlyStopPolicy.model_validate(
        {"mode": "min", "metric": "maxDrawdown", "targetScore": 0.1}
    )
    board = Board(mode="min", top_n=3, total=100)
    feed(board, [0.3, 0.2])
    assert reason(board, rules) is None
    feed(board, [0.05], start=2)
    assert reason(board, rules) is not None


def test_patience_stops_after_that_many_tasks_without_a_new_best() -> None:
    rules = policy(patience=3)
    board = Board(mode="max", top_n=3, total=100)
    feed(board, [1.0, 0.5, 0.4])
    assert reason(board, rules) is None
    feed(board, [0.9], start=3)
    assert "patience" in (reason(board, rules) or "")


def test_min_tasks_holds_every_rule_back() -> None:
    rules = policy(patience=1, targetScore=0.0, minTasks=5)
    board = Board(mode="max", top_n=3, total=100)
    feed(board, [1.0, 0.1, 0.1, 0.1])
    assert reason(board, rules) is None
    feed(board, [0.1], start=4)
    assert reason(board, rules) is not None


def test_no_rule_never_stops() -> None:
    board = Board(mode="max", top_n=3, total=100)
    feed(board, [float(i) for i in range(50)])
    assert reason(board, policy()) is None


@pytest.mark.parametrize(("mode", "scores", "expected"), [
    ("max", [1.0, 0.5, 2.0, float("nan"), 2.0, 3.0], [(1, 1.0), (3, 2.0), (6, 3.0)]),
    ("min", [0.3, 0.4, 0.1, None, 0.2], [(1, 0.3), (3, 0.1)]),
])
def test_best_history_records_each_improvement(mode: str, scores: list, expected: list) -> None:
    board = Board(mode=mode, top_n=3, total=len(scores))  # type: ignore[arg-type]
    board.record(scores)
    assert board.best_history == expected
    restored = Board.from_summary(board.to_summary(), mode=mode, top_n=3,  # type: ignore[arg-type]
                                  total=len(scores))
    assert restored.best_history == expected
    assert board.to_summary()["bestHistory"] == [list(point) for point in expected]


def test_best_history_stays_bounded_and_keeps_the_last_best() -> None:
    from optimizer_app.orchestration.board import BEST_HISTORY_LIMIT

    board = Board(mode="max", top_n=1, total=10_000)
    board.record([float(i) for i in range(10_000)])  # every task is a new best
    assert len(board.best_history) <= BEST_HISTORY_LIMIT
    assert board.best_history[0] == (1, 0.0)
    assert board.best_history[-1] == (10_000, 9_999.0)
    finished = [f for f, _ in board.best_history]
    assert finished == sorted(finished)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_recording_a_chunk_at_once_counts_as_one_by_one(mode: str) -> None:
    """The chunk-at-a-time count (vectorized) against the rule written out per task."""
    rng = random.Random(11)
    specials = [None, math.nan, math.inf, -math.inf]
    scores = [rng.choice(specials) if rng.random() < 0.1 else round(rng.gauss(0, 1), 1)
              for _ in range(3_000)]
    board = Board(mode=mode, top_n=5, total=3_000)  # type: ignore[arg-type]
    best: float | None = None
    since, history = 0, []
    for k, score in enumerate(scores):
        if score is not None and math.isfinite(score) and (best is None
                                                           or better(score, best, mode)):  # type: ignore[arg-type]
            best, since = score, 0
            history.append((k + 1, score))
        else:
            since += 1
    for start in range(0, 3_000, 97):
        feed(board, scores[start : start + 97], start)
    assert board.finished == 3_000 and board.since_best == since
    assert board.best == best
    assert board.best_history[-1] == history[-1] and board.best_history[0] == history[0]
    assert set(board.best_history) <= set(history)


def test_failures_are_counted_by_category_and_round_trip() -> None:
    board = Board(mode="max", top_n=3, total=10)
    board.add_failures(2, "lost")
    board.add_failures(1, "timeout")
    board.add_failures(3, "lost")
    assert board.failed == 6 and board.failures == {"lost": 5, "timeout": 1}
    again = Board.from_summary(board.to_summary(), mode="max", top_n=3, total=10)
    assert again.failures == {"lost": 5, "timeout": 1} and again.failed == 6
    copy = board.copy()
    copy.add_failures(1, "data")
    assert "data" not in board.failures

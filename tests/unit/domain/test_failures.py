"""Failure categories: classifying exceptions, bars that cannot be backtested, isolating the
combinations that raise inside a chunk, and the compact index subsets of re-runs."""

from __future__ import annotations

import dataclasses
import errno
import pickle

import numpy as np
import pytest

from optimizer_app.domain.datasets import Bars
from optimizer_app.domain.failures import ChunkFailure, category_of, describe
from optimizer_app.domain.grid import build_grid
from optimizer_app.domain.subset import decode_subset, encode_subset
from optimizer_app.domain.worker import ChunkTask, bars_problem, run_chunk
from tests.support import failing_strategy

SPACE = {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"start": 10, "stop": 200, "step": 10}}


def chunk(strategy: str, indices: np.ndarray) -> ChunkTask:
    return ChunkTask(job_id="job", strategy=strategy, raw_space=SPACE, indices=indices,
                     options={}, metric="sharpe", mode="max", top_n=3)



@pytest.fixture(autouse=True)
def _failing_strategy_registered():
    """The failing strategy exists for this module's tests only."""
    failing_strategy.register()
    yield
    failing_strategy.unregister()

def test_exceptions_are_classified() -> None:
    assert category_of(ValueError("x")) == "strategy"
    assert category_of(MemoryError()) == "resource"
    assert category_of(OSError(errno.ENOSPC, "No space left on device")) == "resource"
    assert category_of(OSError(errno.ENOENT, "gone")) == "strategy"
    wrapped = RuntimeError("writing failed")
    wrapped.__cause__ = OSError(errno.EDQUOT, "quota")
    assert category_of(wrapped) == "resource"
    assert category_of(ChunkFailure("data", "no bars")) == "data"
    assert describe(ValueError("bad fast")) == "ValueError: bad fast"
    assert "disk is full" in describe(OSError(errno.ENOSPC, "No space left on device"))
    assert "out of memory" in describe(MemoryError())
    with pytest.raises(ValueError):
        ChunkFailure("cosmic rays", "?")


def test_a_chunk_failure_survives_the_trip_back_from_a_worker() -> None:
    again = pickle.loads(pickle.dumps(ChunkFailure("timeout", "too slow")))
    assert (again.category, again.message, str(again)) == ("timeout", "too slow", "too slow")


def test_bars_problem_names_holes_and_empty_windows(goog: Bars) -> None:
    assert bars_problem(goog) is None
    close = goog.close.copy()
    close[100:110] = np.nan
    holed = dataclasses.replace(goog, close=close)
    problem = bars_problem(holed)
    first = str(goog.dates[100])
    assert problem is not None and "10 of 2,148 bars" in problem and first in problem
    empty = dataclasses.replace(goog, **{name: getattr(goog, name)[:0] for name in
                                         ("dates", "open", "high", "low", "close", "volume")})
    assert bars_problem(empty) == "the dataset window holds no bars"
    zero = dataclasses.replace(goog, open=np.zeros_like(goog.open))
    assert "no valid prices" in (bars_problem(zero) or "")


def test_a_chunk_on_bars_with_a_hole_fails_as_data(goog: Bars) -> None:
    close = goog.close.copy()
    close[500] = np.nan
    result = run_chunk(chunk("sma_cross", np.arange(10)), dataclasses.replace(goog, close=close))
    assert result.indices.size == 0
    [failure] = result.failures
    assert failure.category == "data" and failure.indices.tolist() == list(range(10))


def test_only_the_combinations_that_raise_fail_and_the_rest_run(goog: Bars) -> None:
    grid = build_grid(failing_strategy.NAME, SPACE, cap=1000)
    indices = np.arange(grid.total, dtype=np.int64)
    fast = grid.params_for(indices)["fast"]
    result = run_chunk(chunk(failing_strategy.NAME, indices), goog)
    by_category: dict[str, list[int]] = {}
    for failure in result.failures:
        by_category.setdefault(failure.category, []).extend(failure.indices.tolist())
    by_category = {category: sorted(found) for category, found in by_category.items()}
    assert by_category == {
        "strategy": np.flatnonzero(fast == failing_strategy.RAISING_FAST).tolist(),
        "resource": np.flatnonzero(fast == failing_strategy.HUNGRY_FAST).tolist(),
    }
    ran = set(result.indices.tolist())
    assert ran.isdisjoint(by_category["strategy"]) and ran.isdisjoint(by_category["resource"])
    assert len(ran) + sum(map(len, by_category.values())) == grid.total
    assert len(result.scores) == len(ran)
    # the metrics of a combination that ran are those of a chunk without the failing ones
    clean = run_chunk(chunk("sma_cross", result.indices), goog)
    assert np.array_equal(clean.scores, result.scores, equal_nan=True)


@pytest.mark.parametrize("indices", [[], [0], [3, 4, 5, 6, 100, 101, 9_999_999],
                                     list(range(0, 20_000, 7))])
def test_subsets_round_trip(indices: list[int]) -> None:
    blob = encode_subset(np.asarray(indices[::-1], dtype=np.int64))
    assert decode_subset(blob).tolist() == sorted(indices)


def test_a_run_of_a_million_indices_is_small() -> None:
    assert len(encode_subset(np.arange(1_000_000))) < 16_000  # 8 MB as int64

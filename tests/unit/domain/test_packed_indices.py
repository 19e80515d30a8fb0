"""Chunk tasks and results travel with their indices packed; they arrive unchanged."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from optimizer_app.domain.subset import pack_indices, unpack_indices
from optimizer_app.domain.worker import ChunkResult, ChunkTask


def _chunk(rng: np.random.Generator, size: int) -> np.ndarray:
    """Sorted runs of consecutive indices, as a shuffled grid's chunk is."""
    starts = np.sort(rng.choice(10_000_000 // 256, size // 256 + 1, replace=False)) * 256
    return (starts[:, None] + np.arange(256)).ravel()[:size].astype(np.int64)


@pytest.mark.parametrize("size", [0, 1, 1_023, 1_024, 65_536])
def test_a_task_and_a_result_round_trip_through_pickle(size: int) -> None:
    indices = _chunk(np.random.default_rng(size), size)
    task = ChunkTask(job_id="j", strategy="s", raw_space={}, indices=indices, options={},
                     metric="sharpe", mode="max", top_n=10)
    back = pickle.loads(pickle.dumps(task))
    assert np.array_equal(back.indices, indices) and back.indices.dtype == np.int64
    assert {k: v for k, v in vars(back).items() if k != "indices"} == {
        k: v for k, v in vars(task).items() if k != "indices"}
    result = ChunkResult(job_id="j", indices=indices, scores=np.zeros(size))
    again = pickle.loads(pickle.dumps(result))
    assert np.array_equal(again.indices, indices) and np.array_equal(again.scores, result.scores)
    if size >= 1_024:  # packed: a small fraction of the array's 8 bytes per index
        assert len(pickle.dumps(task)) < indices.nbytes / 20


def test_unsorted_or_repeated_indices_travel_as_they_are() -> None:
    for values in (np.array([5, 3, 9] * 500), np.repeat(np.arange(600), 2)):
        packed = pack_indices(values)
        assert isinstance(packed, np.ndarray)
        assert np.array_equal(unpack_indices(packed), values)

"""The order a job's combinations run in."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer_app.domain.bitmask import BitMask
from optimizer_app.domain.order import PendingOrder, block_size, new_seed, run_order


def test_shuffled_is_a_seeded_permutation_and_sequential_is_index_order() -> None:
    first = run_order(10_000, "shuffled", 42)
    assert sorted(first.tolist()) == list(range(10_000))
    assert first.tolist() == run_order(10_000, "shuffled", 42).tolist()  # same seed, same order
    assert first.tolist() != run_order(10_000, "shuffled", 43).tolist()
    assert run_order(5, "sequential", 42).tolist() == [0, 1, 2, 3, 4]
    assert run_order(1, "shuffled", 1).tolist() == [0]


def test_any_prefix_of_a_shuffled_order_samples_the_whole_grid() -> None:
    for seed in (1, 2, 3, 4, 5):
        prefix = run_order(100_000, "shuffled", seed)[:10_000]
        # a tenth of the first 10,000 in each tenth of the grid, give or take (blocks of 24)
        counts = np.bincount(prefix // 10_000, minlength=10)
        assert counts.min() > 500 and counts.max() < 1_500, (seed, counts)
    assert 0 <= new_seed() < 2**31


def test_large_grids_shuffle_small_blocks_of_consecutive_indices() -> None:
    total = 1_000_003  # not a multiple of the block
    order = run_order(total, "shuffled", 5)
    assert len(order) == total and np.array_equal(np.sort(order), np.arange(total))
    size = block_size(total)
    assert 1 < size <= 256 and total // size >= 3_900
    assert (np.diff(order[:size]) == 1).all()  # a block runs in index order
    assert run_order(10_000, "shuffled", 5).tolist() != list(range(10_000))


@pytest.mark.parametrize("order", ["shuffled", "sequential"])
@pytest.mark.parametrize("total", [1, 5, 4_097, 300_001])
def test_pending_order_is_run_order_without_the_done_taken_in_any_steps(order: str,
                                                                         total: int) -> None:
    rng = np.random.default_rng(total)
    done = rng.random(total) < 0.3
    expected = run_order(total, order, 99)
    expected = expected[~done[expected]]
    mask = BitMask(total)
    mask[np.flatnonzero(done)] = True
    pending = PendingOrder(total, order, 99, mask)
    assert len(pending) == len(expected)
    taken = []
    while (part := pending.take(int(rng.integers(1, 70_000)))).size:
        taken.append(part)
    assert np.array_equal(np.concatenate(taken), expected)

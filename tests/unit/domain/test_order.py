"""The order a job's combinations run in."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain.order import new_seed, run_order


def test_shuffled_is_a_seeded_permutation_and_sequential_is_index_order() -> None:
    first = run_order(10_000, "shuffled", 42)
    assert sorted(first.tolist()) == list(range(10_000))
    assert first.tolist() == run_order(10_000, "shuffled", 42).tolist()  # same seed, same order
    assert first.tolist() != run_order(10_000, "shuffled", 43).tolist()
    assert run_order(5, "sequential", 42).tolist() == [0, 1, 2, 3, 4]
    assert run_order(1, "shuffled", 1).tolist() == [0]


def test_any_prefix_of_a_shuffled_order_samples_the_whole_grid() -> None:
    prefix = run_order(100_000, "shuffled", new_seed())[:1_000]
    # a tenth of the first thousand in each tenth of the grid, give or take
    counts = np.bincount(prefix // 10_000, minlength=10)
    assert counts.min() > 50 and counts.max() < 150, counts

"""The stored-combinations mask, a bit per combination, against a plain bool array."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer_app.domain.bitmask import BitMask


@pytest.mark.parametrize("size", [1, 7, 8, 9, 4_097, 100_003])
@pytest.mark.parametrize("fill", [False, True])
def test_reads_writes_and_counts_agree_with_a_bool_array(size: int, fill: bool) -> None:
    rng = np.random.default_rng(size)
    mask, expected = BitMask(size, fill=fill), np.full(size, fill)
    assert mask.count() == int(expected.sum()) and len(mask) == size
    for step in range(30):
        indices = rng.integers(0, size, int(rng.integers(0, 2 * size)))  # repeats included
        value = bool(step % 3)
        mask[indices] = value
        expected[indices] = value
        probe = rng.integers(0, size, 500)
        assert np.array_equal(mask[probe], expected[probe])
        assert mask.count() == int(expected.sum())
    start, stop = size // 3, size - size // 5
    mask[start:stop] = True
    expected[start:stop] = True
    assert np.array_equal(mask[start // 2:stop], expected[start // 2:stop])
    assert np.array_equal(mask.to_bools(), expected)
    assert mask.nbytes() == -(-size // 8)


def test_an_index_outside_the_mask_is_refused() -> None:
    mask = BitMask(10)
    with pytest.raises(IndexError):
        mask[np.array([10])] = True
    with pytest.raises(IndexError):
        mask[np.array([-1])]  # noqa: B018
    assert mask[np.zeros(0, dtype=np.int64)].size == 0

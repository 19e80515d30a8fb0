"""The order a job's combinations run in. ``shuffled`` (the default) is a seeded pseudo-random
permutation of the grid, so that any prefix of a job — canceled, early-stopped — is an
unbiased sample of the whole grid; ``sequential`` is index order. The same grid size, order
and seed always give the same order. Combination indices stay the grid's own."""

from __future__ import annotations

import secrets
from typing import Literal

import numpy as np

GridOrder = Literal["shuffled", "sequential"]
GRID_ORDERS: tuple[str, ...] = ("shuffled", "sequential")
MAX_SEED = 2**53 - 1  # exact in JSON numbers everywhere


def new_seed() -> int:
    return secrets.randbelow(2**31)


def run_order(total: int, order: str, seed: int | None) -> np.ndarray:
    """Every combination index of a grid of ``total``, in the order they run."""
    if order == "sequential" or total <= 1:
        return np.arange(total, dtype=np.int64)
    rng = np.random.Generator(np.random.PCG64(int(seed or 0)))
    return rng.permutation(total).astype(np.int64, copy=False)

"""A set of combination indices as one bit each.

A job's record of which combinations are stored is read and updated for every chunk; as a
boolean array it would take a byte per combination (~10 MB for a grid at the 10,000,000 cap,
held for as long as the job runs). This keeps a bit per combination, with the few operations
the orchestrator needs, each vectorised over an array of indices."""

from __future__ import annotations

import numpy as np

__all__ = ["BitMask"]

_BITS = (np.uint8(1) << np.arange(8, dtype=np.uint8)).astype(np.uint8)


class BitMask:
    """``size`` flags, all False (or all True with ``fill``). Indexed by an array of indices
    (or a slice) it reads them as a bool array; assigning True or False sets them."""

    def __init__(self, size: int, *, fill: bool = False) -> None:
        self.size = int(size)
        self._bytes = np.full(-(-self.size // 8), 0xFF if fill else 0, dtype=np.uint8)
        if fill and self.size % 8:  # the unused bits of the last byte stay clear
            self._bytes[-1] = (1 << (self.size % 8)) - 1

    def _indices(self, key: np.ndarray | slice | list[int]) -> np.ndarray:
        if isinstance(key, slice):
            return np.arange(*key.indices(self.size), dtype=np.int64)
        indices = np.asarray(key, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise IndexError(f"an index outside 0..{self.size - 1}")
        return indices

    def __getitem__(self, key: np.ndarray | slice | list[int]) -> np.ndarray:
        indices = self._indices(key)
        return (self._bytes[indices >> 3] & _BITS[indices & 7]) != 0

    def __setitem__(self, key: np.ndarray | slice | list[int], value: bool) -> None:
        indices = self._indices(key)
        if value:
            np.bitwise_or.at(self._bytes, indices >> 3, _BITS[indices & 7])
        else:
            np.bitwise_and.at(self._bytes, indices >> 3, ~_BITS[indices & 7])

    def __len__(self) -> int:
        return self.size

    def count(self) -> int:
        """How many are True."""
        return int(np.bitwise_count(self._bytes).sum(dtype=np.int64))

    def to_bools(self) -> np.ndarray:
        """Every flag as a bool array (a byte each: for the rare whole-grid operation)."""
        return np.unpackbits(self._bytes, count=self.size, bitorder="little").astype(bool)

    def nbytes(self) -> int:
        return int(self._bytes.nbytes)

"""A set of combination indices stored compactly: the sorted indices' gaps as little-endian
int64, zlib-compressed. Runs of consecutive indices (a failed chunk) shrink ~700-fold;
10,000,000 scattered indices stay within tens of MB."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["decode_subset", "encode_subset"]


def encode_subset(indices: np.ndarray | list[int]) -> bytes:
    values = np.unique(np.asarray(indices, dtype=np.int64))
    if values.size and values[0] < 0:
        raise ValueError("combination indices are never negative")
    gaps = np.diff(values, prepend=np.int64(0)).astype("<i8")
    return zlib.compress(gaps.tobytes(), 6)


def decode_subset(blob: bytes) -> np.ndarray:
    """The sorted indices of ``encode_subset``'s output."""
    gaps = np.frombuffer(zlib.decompress(blob), dtype="<i8")
    return np.cumsum(gaps, dtype=np.int64)

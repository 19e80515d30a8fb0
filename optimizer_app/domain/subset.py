"""A set of combination indices stored compactly: the sorted indices' gaps as little-endian
int64, zlib-compressed. Runs of consecutive indices (a failed chunk) shrink ~700-fold;
10,000,000 scattered indices stay within tens of MB."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["decode_subset", "encode_subset", "pack_indices", "unpack_indices"]

PACK_FROM = 1_024  # shorter index arrays travel as they are


def encode_subset(indices: np.ndarray | list[int]) -> bytes:
    values = np.unique(np.asarray(indices, dtype=np.int64))
    if values.size and values[0] < 0:
        raise ValueError("combination indices are never negative")
    return _gaps(values, level=6)


def _gaps(values: np.ndarray, *, level: int) -> bytes:
    """Sorted non-negative indices as their gaps, compressed (``decode_subset`` reads them)."""
    gaps = np.diff(values.astype(np.int64), prepend=np.int64(0)).astype("<i8")
    return zlib.compress(gaps.tobytes(), level)


def decode_subset(blob: bytes) -> np.ndarray:
    """The sorted indices of ``encode_subset``'s output."""
    gaps = np.frombuffer(zlib.decompress(blob), dtype="<i8")
    return np.cumsum(gaps, dtype=np.int64)


def pack_indices(indices: np.ndarray) -> np.ndarray | bytes:
    """A chunk's combination indices for the wire: strictly increasing ones (as chunks are:
    runs of consecutive indices) as ``encode_subset`` bytes — a few kilobytes instead of
    512 KiB for 65,536 — anything else as it is."""
    values = np.asarray(indices)
    if values.size < PACK_FROM or values.dtype.kind not in "iu" or values[0] < 0:
        return values
    if not bool(np.all(values[1:] > values[:-1])):
        return values
    return _gaps(values, level=1)  # fast: a chunk is packed and unpacked on every trip


def unpack_indices(packed: np.ndarray | bytes) -> np.ndarray:
    """``pack_indices``' input back, as int64."""
    if isinstance(packed, bytes):
        return decode_subset(packed)
    return np.asarray(packed)

"""The orchestrator process's use of the C allocator (glibc).

Chunk results arrive from the workers as buffers of several megabytes. glibc serves a large
request with its own ``mmap`` and unmaps it on free — until the first such free, after which it
raises its threshold (up to 32 MiB) and serves the next ones from its heaps, which keep what
they have once held. Over a job of millions of combinations the process then holds tens of
megabytes it no longer uses. A fixed threshold keeps large buffers mapped on their own (given
back on free), and a trim after each job hands back what the heaps have left free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["release_free_memory", "tune_allocator"]

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20  # a request of this size or more gets its own mapping
TRIM_THRESHOLD = 8 << 20  # free memory at the top of the main heap beyond this goes back


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc only
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def tune_allocator() -> bool:
    """Fix the thresholds; call once, early, in the main thread. False where not glibc."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> None:
    """Give the free memory of every heap back to the system (a few milliseconds)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)

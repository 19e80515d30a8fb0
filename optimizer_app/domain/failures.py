"""Why a combination failed: five categories, and telling them apart from an exception.

* ``data`` — the bars given to the worker cannot be backtested (no bars, prices missing, not
  finite or not positive in the window);
* ``strategy`` — the strategy (or the engine running it) raised;
* ``resource`` — the worker ran out of memory or of disk;
* ``lost`` — the chunk took its worker processes down every time it ran, and was given up;
* ``timeout`` — the chunk did not come back within the configured time limit.

Pure: the worker decides the first three where the failure happens, the orchestrator the
last two (and classifies an exception that reached it unclassified with :func:`category_of`).
"""

from __future__ import annotations

import errno
from enum import StrEnum

__all__ = ["CATEGORIES", "ChunkFailure", "FailureCategory", "category_of", "describe"]


class FailureCategory(StrEnum):
    DATA = "data"
    STRATEGY = "strategy"
    RESOURCE = "resource"
    LOST = "lost"
    TIMEOUT = "timeout"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in FailureCategory)

_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


class ChunkFailure(Exception):
    """Raised by a worker for a chunk none of whose combinations can run, with the category
    and a message for the user (picklable: it travels back from the worker)."""

    def __init__(self, category: str, message: str) -> None:
        super().__init__(category, message)
        self.category = FailureCategory(category).value
        self.message = message

    def __str__(self) -> str:
        return self.message


def _is_resource(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


def category_of(exc: BaseException) -> str:
    """The category of an exception a chunk raised: its own for a :class:`ChunkFailure`,
    ``resource`` for memory or disk exhaustion (also as a cause), ``strategy`` otherwise."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ChunkFailure):
            return current.category
        if _is_resource(current):
            return FailureCategory.RESOURCE.value
        current = current.__cause__ or current.__context__
    return FailureCategory.STRATEGY.value


def describe(exc: BaseException) -> str:
    """A readable message for the failed combinations."""
    if isinstance(exc, ChunkFailure):
        return exc.message
    if isinstance(exc, MemoryError):
        return f"the worker ran out of memory ({type(exc).__name__}: {exc or 'no detail'})"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        reason = "the worker's disk is full" if exc.errno == errno.ENOSPC else "disk error"
        return f"{reason} ({type(exc).__name__}: {exc})"
    text = str(exc) or "no message"
    return f"{type(exc).__name__}: {text}"

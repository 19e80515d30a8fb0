"""Lowering the CPU priority of a thread (Linux gives each thread its own niceness).

Threads started afterwards by that thread inherit it, native ones included (a DuckDB
instance's worker threads, for example, are started by the thread that opens it)."""

from __future__ import annotations

import contextlib
import os
import threading


def lower_thread(native_id: int, niceness: int) -> None:
    """Run thread ``native_id`` (0: the calling one) at ``niceness`` or lower priority, never
    raising it; nothing when it cannot (it just ended; not Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        if os.getpriority(os.PRIO_PROCESS, native_id) < niceness:
            os.setpriority(os.PRIO_PROCESS, native_id, niceness)


def lower_this_thread(niceness: int) -> int:
    """:func:`lower_thread` for the calling thread. Returns its niceness now (elsewhere than
    Linux, the process's)."""
    native = threading.get_native_id()
    lower_thread(native, niceness)
    with contextlib.suppress(OSError, AttributeError):
        return os.getpriority(os.PRIO_PROCESS, native)
    return os.nice(0)

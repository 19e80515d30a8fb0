"""Lowering the CPU priority of one thread (Linux gives each thread its own niceness).

Threads started afterwards by that thread inherit it, native ones included (a DuckDB
instance's worker threads, for example, are started by the thread that opens it)."""

from __future__ import annotations

import contextlib
import os
import threading


def lower_this_thread(niceness: int) -> int:
    """Run the calling thread at ``niceness`` or lower priority (never raises it). Returns
    its niceness now; elsewhere than Linux nothing changes (the process's is returned)."""
    native = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):
        if os.getpriority(os.PRIO_PROCESS, native) < niceness:
            os.setpriority(os.PRIO_PROCESS, native, niceness)
        return os.getpriority(os.PRIO_PROCESS, native)
    return os.nice(0)

"""Per-thread CPU priority (Linux): lowered for the calling thread only, inherited by the
threads it starts, never raised."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from optimizer_app.core.priority import lower_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread niceness is Linux's")


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_a_thread(function):  # type: ignore[no-untyped-def]
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(function()))
    thread.start()
    thread.join()
    return found[0]


def test_lowers_the_calling_thread_and_the_threads_it_starts() -> None:
    base = _niceness()
    wanted = min(base + 4, 19)

    def lowered() -> tuple[int, int, int]:
        now = lower_this_thread(wanted)
        return now, _niceness(), _in_a_thread(_niceness)

    now, own, started = _in_a_thread(lowered)
    assert now == own == started == wanted
    assert _niceness() == base, "the caller's thread keeps its priority"


def test_never_raises_a_priority() -> None:
    base = _niceness()
    lower = min(base + 6, 19)

    def twice() -> int:
        lower_this_thread(lower)
        return lower_this_thread(base)

    assert _in_a_thread(twice) == lower

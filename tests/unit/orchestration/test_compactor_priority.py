"""The compacting thread is housekeeping: it runs at the local workers' niceness, behind the
orchestrator's other threads (and the DuckDB threads it starts inherit that)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from optimizer_app.orchestration import compaction


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness")
def test_the_compacting_thread_runs_at_the_workers_niceness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []
    looked = threading.Event()

    def record(*_args: object, **_kwargs: object) -> list[object]:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        looked.set()
        return []

    monkeypatch.setattr(compaction, "jobs_to_compact", record)
    compactor = compaction.Compactor()
    compactor.start()
    try:
        compactor.poke()
        assert looked.wait(10)
    finally:
        compactor.stop()
    assert seen[0] == max(compaction.CHILD_NICENESS, os.nice(0))
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.nice(0)

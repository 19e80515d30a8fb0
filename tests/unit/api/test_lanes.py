"""Lanes bound each kind of blocking work on its own: a full lane makes its callers wait
without taking threads from another lane."""

from __future__ import annotations

import asyncio
import threading
import time

from optimizer_app.api import lanes
from tests.support.run_async import run_async


def test_a_lane_runs_at_most_its_tokens_at_once() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def burst() -> None:
        await asyncio.gather(*(lanes.run_in(lanes.SUBMIT, work) for _ in range(8)))

    run_async(burst())
    assert most == lanes.TOKENS[lanes.SUBMIT]


def test_a_full_lane_does_not_hold_up_another() -> None:
    release = threading.Event()

    async def scene() -> float:
        blocked = [asyncio.ensure_future(lanes.run_in(lanes.SUBMIT, release.wait, 10))
                   for _ in range(lanes.TOKENS[lanes.SUBMIT] * 3)]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        assert await lanes.run_in(lanes.POLL, lambda: "polled") == "polled"
        took = time.perf_counter() - started
        assert not any(task.done() for task in blocked)
        release.set()
        await asyncio.gather(*blocked)
        return took

    assert run_async(scene()) < 5  # it did not wait for the submits (they wait up to 10 s)


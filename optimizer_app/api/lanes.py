"""Lanes for the web server's blocking work.

Every blocking call of a request runs in a worker thread. Sharing one pool of forty threads, a
burst of one kind of request broke the others: sixty submits from sixty connections at once
took every thread and, holding them, waited for the fifteen pooled database connections:
after 30-35 s, 30-37 of them failed with a 500, and the status polls and health checks queued
behind them for a thread took as long (`benchmarks/concurrency.py` with a client per user, on
the code before lanes).

Each lane is a bounded share of the worker threads for one kind of work: a burst waits in its
own lane, holding no thread, no connection and no CPU, while the other lanes keep going.
Limiters are made per event loop (tests run several).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
from anyio import to_thread

Ts = TypeVarTuple("Ts")
T = TypeVar("T")

# Short reads polled by every open page (status, health): enough threads that a poll never
# waits for one, few enough that they do not crowd each other out of the GIL.
POLL = "poll"
# Submits: Python CPU work (validation, grid expansion; under one GIL) ending in a write (under
# one SQLite writer). One at a time finished 60 submits sent at once in 0.5-0.75 s, two at a
# time in 1.0-1.8 s, with the CPU idle half the time (measured on the 2-core default setup).
SUBMIT = "submit"
TOKENS = {POLL: 8, SUBMIT: 1}

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, anyio.CapacityLimiter]]
_limiters = weakref.WeakKeyDictionary()


def limiter(lane: str) -> anyio.CapacityLimiter:
    lanes = _limiters.setdefault(asyncio.get_running_loop(), {})
    if lane not in lanes:
        lanes[lane] = anyio.CapacityLimiter(TOKENS[lane])
    return lanes[lane]


async def run_in(lane: str, function: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
    """``function(*args)`` in a worker thread of ``lane``."""
    return await to_thread.run_sync(function, *args, limiter=limiter(lane))

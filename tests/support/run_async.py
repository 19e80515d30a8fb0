"""Run a coroutine to completion from a test, whatever the calling thread is doing: the
browser tests' sync Playwright keeps an event loop running in the main thread for the whole
session, where ``asyncio.run`` refuses to start; a thread of its own has none (it runs in a
copy of the caller's context variables)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
    context = contextvars.copy_context()  # e.g. Reflex's registration context
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as pool:
        return pool.submit(context.run, asyncio.run, coroutine).result(timeout=timeout)

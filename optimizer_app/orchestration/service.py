"""Running the orchestrator: in a background thread of this process (``start_background``),
or as the whole process (``python -m optimizer_app.orchestration``, see ``__main__``)."""

from __future__ import annotations

import threading

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.orchestration.executor import ChunkFunction, Executor
from optimizer_app.orchestration.orchestrator import Orchestrator

_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def run_orchestrator(
    stop: threading.Event,
    *,
    address: str | None = None,
    chunk_function: ChunkFunction | str | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Start the Dask client (and, embedded, the local cluster), loop until ``stop`` is set,
    then withdraw work, release the leases and shut the workers down."""
    executor = Executor(address=address or settings.dask_address, chunk_function=chunk_function)
    while True:
        try:
            executor.start()
            break
        except Exception as exc:  # e.g. the scheduler is not up yet: keep trying
            logger.bind(address=executor.address, error=str(exc)).warning(
                "cannot start the dask client; retrying in 5 s"
            )
            executor.close()
            if stop.wait(5.0):
                return
    try:
        orchestrator = Orchestrator(executor=executor)
        if ready is not None:
            ready.set()
        orchestrator.run_forever(stop)
    finally:
        executor.close()


def _run_logged(ready: threading.Event) -> None:
    try:
        run_orchestrator(_stop, ready=ready)
    except Exception:
        logger.exception("orchestrator stopped by an error")
    finally:
        ready.set()


def start_background(*, wait: bool = True) -> None:
    """Run the orchestrator in a daemon thread of this process (no-op if already running)."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _stop.clear()
        ready = threading.Event()
        _thread = threading.Thread(
            target=_run_logged, args=(ready,), name="orchestrator", daemon=True
        )
        _thread.start()
    if wait:
        ready.wait(timeout=120)


def stop_background(timeout: float = 30.0) -> None:
    """Stop the background orchestrator and wait for it to release its jobs."""
    global _thread
    with _lock:
        thread, _thread = _thread, None
    if thread is None:
        return
    _stop.set()
    thread.join(timeout=timeout)
    if thread.is_alive():
        logger.warning("orchestrator thread did not stop in time")


def is_running() -> bool:
    return _thread is not None and _thread.is_alive()

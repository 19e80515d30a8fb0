"""``python -m optimizer_app.orchestration``: the orchestrator process, until SIGTERM/SIGINT.

Embedded by default (a local Dask cluster of ``OPTIMIZER_WORKERS`` processes); with
``OPTIMIZER_DASK_ADDRESS`` it uses an existing Dask scheduler instead.

With ``--parent-pid`` (as ``scripts/run.sh`` starts it) it also stops, as on SIGTERM, once
that parent process is gone, e.g. killed with SIGKILL: its jobs are handed back and its
worker processes shut down rather than left running without a web app."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from types import FrameType

from optimizer_app.core.logging import configure_logging, logger
from optimizer_app.core.priority import lower_this_thread
from optimizer_app.orchestration.memory import tune_allocator
from optimizer_app.orchestration.service import run_orchestrator

# The orchestrator process runs below the web server and above its local workers (10): it is
# batch machinery, and a request's CPU should not wait behind it. Measured (concurrency
# benchmark, 2 runs each, 2 cores): status p95 with the burst of 50 sign-ins 153-223 -> 87 ms
# and with nothing else 18-19 -> 10-11 ms; submits and the big job's throughput unchanged
# within the noise.
ORCHESTRATOR_NICENESS = 4
PARENT_POLL_SECONDS = 1.0
# Once the parent is gone, the orderly stop gets this long before the process just exits (its
# worker processes follow at once): well within a lease, so no job waits for a dead owner.
ORPHAN_EXIT_SECONDS = 10.0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m optimizer_app.orchestration")
    parser.add_argument(
        "--chunk-function",
        default=None,
        help="'package.module:function' run on workers instead of the domain's run_chunk "
        "(for fault-injection tests)",
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop as on SIGTERM once this process (our parent) is gone",
    )
    return parser.parse_args(argv)


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    """Set ``stop`` when this process's parent is no longer ``parent_pid`` (it died and we
    were handed to another process), checking every ``PARENT_POLL_SECONDS``; exit outright if
    the orderly stop takes longer than ``ORPHAN_EXIT_SECONDS``."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        logger.bind(parent_pid=parent_pid).warning("parent process gone: stopping")
        stop.set()
        time.sleep(ORPHAN_EXIT_SECONDS)
        logger.bind(seconds=ORPHAN_EXIT_SECONDS).error("orchestrator did not stop in time: exiting")
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    lower_this_thread(ORCHESTRATOR_NICENESS)  # first: every thread and worker inherits it
    tune_allocator()
    configure_logging()
    stop = threading.Event()
    received: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only this here: a handler runs between any two steps of the main thread, which
        # may be inside the logger (whose lock it would then wait for) or a blocking call.
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if args.parent_pid is not None:
        _watch_parent(args.parent_pid, stop)
    run_orchestrator(stop, chunk_function=args.chunk_function)
    if received:
        logger.bind(signal=signal.Signals(received[0]).name).info("orchestrator stopped by signal")


if __name__ == "__main__":
    main()

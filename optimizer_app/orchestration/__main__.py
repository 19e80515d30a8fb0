"""``python -m optimizer_app.orchestration``: the orchestrator process, until SIGTERM/SIGINT.

Embedded by default (a local Dask cluster of ``OPTIMIZER_WORKERS`` processes); with
``OPTIMIZER_DASK_ADDRESS`` it uses an existing Dask scheduler instead."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from optimizer_app.core.logging import configure_logging, logger
from optimizer_app.orchestration.service import run_orchestrator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m optimizer_app.orchestration")
    parser.add_argument(
        "--chunk-function",
        default=None,
        help="'package.module:function' run on workers instead of the domain's run_chunk "
        "(for fault-injection tests)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
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
    run_orchestrator(stop, chunk_function=args.chunk_function)
    if received:
        logger.bind(signal=signal.Signals(received[0]).name).info("orchestrator stopped by signal")


if __name__ == "__main__":
    main()

"""Dask client management: one code path for the embedded cluster and a real one.

* Embedded (default): a ``LocalCluster`` of ``settings.workers`` single-threaded worker
  processes, started inside the orchestrator process.
* Scale-out: ``settings.dask_address`` (``tcp://`` or ``tls://``) names an existing scheduler;
  TLS certificates come from Dask's own configuration (``distributed.comm.tls.*``).

Workers only ever receive ``optimizer_app.domain`` objects: the chunk function, a
:class:`ChunkTask` and the bars of a dataset (scattered once, shared by the jobs on the same
bars)."""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import dask
import numpy as np
from distributed import Client, Future, LocalCluster

from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger
from optimizer_app.domain.worker import warm_up, warm_ups, yield_cpu

if TYPE_CHECKING:
    from optimizer_app.domain.datasets import Bars

ChunkFunction = Callable[..., Any]
RECONNECT_SECONDS = 2.0
# Local worker processes run at this niceness: the backtests use every core, and the one
# process that writes their results (and the web app serving pages) must not wait for one.
# Measured: writing a 16,384-combination chunk took 73-158 ms with equal priorities, 70-90 ms
# with this; a 100,401-combination job 0.78 s → 0.73 s.
LOCAL_WORKER_NICENESS = 10


LOW_LEVEL_LOG_LENGTH = 1
# Datasets kept on the workers for the next job on the same bars, the most recently used ones
# (a job that runs holds on to its own in any case). Scattering a dataset is a broadcast to
# every worker that held the orchestrator up ~30 ms per job.
SHARED_DATASETS = 4


QUIET_TIMERS: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
}


def dask_settings(*, max_attempts: int | None = None) -> dict[str, Any]:
    """The Dask configuration the orchestrator runs with (applied before a cluster starts).

    * Dask's nannies export ``MALLOC_TRIM_THRESHOLD_=65536`` to workers by default, which
      cost ~35% CPU on this numpy workload; ``None`` removes it (setting the environment
      variable ourselves does not, the nanny's config wins).
    * ``worker-saturation: inf`` sends each chunk to a worker at once: we keep only a few
      chunks in flight per worker ourselves, so scheduler-side queueing only adds latency.
    * ``allowed-failures``: how many worker deaths a chunk may be involved in before it is
      given up as ``KilledWorker`` (then its tasks are recorded as failed).
    * ``low-level-log-length``: Dask keeps the last N messages of each connection for
      debugging (default 1,000); a chunk's message holds its combination indices, so the
      orchestrator kept ~15-20 bytes per combination of a job alive (~190 MB at 10M). Even 16
      messages of each of its connections held ~8 MiB each once chunks reach their largest
      (65,536 indices, 512 KiB a message); one message each keeps its memory flat in the
      job's size. (The same setting bounds the scheduler's transition and event logs, which
      only debugging reads.)
    * Dask's own timers, which kept an idle app busy: its sampling profiler (100 samples a
      second in each worker, for a dashboard we do not serve) is off; the event-loop watchdog
      ticks every 500 ms instead of 20 ms (it still warns of a loop blocked over 3 s); memory
      is checked every 500 ms instead of 100 ms and system counters taken every 2 s instead
      of 500 ms. Measured on the embedded app with nothing to do, CPU-seconds per 20 s:
      orchestrator 1.6-1.75 → 0.6, the two workers 1.6-1.9 → 0.2 (~8% of two cores → 2%).
    """
    attempts = max_attempts or settings.max_attempts
    return {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.scheduler.worker-saturation": "inf",
        "distributed.scheduler.allowed-failures": max(0, attempts - 1),
        "distributed.admin.low-level-log-length": LOW_LEVEL_LOG_LENGTH,
        **QUIET_TIMERS,
    }


def bars_key(bars: Bars) -> str:
    """Equal for equal bars: their content hash, volume included."""
    volume = hashlib.blake2b(np.ascontiguousarray(bars.volume).tobytes(), digest_size=8)
    return f"{bars.fingerprint}-{volume.hexdigest()}-{len(bars)}"


def load_chunk_function(path: str | None) -> ChunkFunction:
    """``"package.module:function"`` → the function; ``None`` → the domain's ``run_chunk``."""
    if not path:
        from optimizer_app.domain.worker import run_chunk

        return run_chunk
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"chunk function {path!r} must look like 'package.module:function'")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


def _worker_environment() -> dict[str, Any]:  # runs on a worker
    return {
        "pid": os.getpid(),
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "warm_ups": warm_ups(),
        "niceness": os.nice(0),
        "timers": {key: dask.config.get(key) for key in QUIET_TIMERS},
    }


class Executor:
    """Owns the Dask client (and, embedded, the local cluster) of one orchestrator."""

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        chunk_function: ChunkFunction | str | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.address = address
        self.workers = workers or settings.workers
        self.max_attempts = max_attempts or settings.max_attempts
        if chunk_function is None or isinstance(chunk_function, str):
            chunk_function = load_chunk_function(chunk_function)
        self.chunk_function: ChunkFunction = chunk_function
        self.cluster: LocalCluster | None = None
        self.client: Client | None = None
        self.generation = 0  # bumped on every (re)connection: data scattered before is gone
        self._capacity = (0.0, 0)
        self._interrupted = False
        self._next_attempt = 0.0
        self._warming: set[Future] = set()  # warm-up tasks, held until done
        self._warmed: set[str] = set()  # worker addresses sent a warm-up
        self._scattered: OrderedDict[str, tuple[Future, int]] = OrderedDict()  # by bars_key

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Executor:
        dask.config.set(dask_settings(max_attempts=self.max_attempts))
        logging.getLogger("distributed").setLevel(logging.WARNING)
        if self.address:
            self.client = Client(self.address, timeout="20s", set_as_default=False)
            log = logger.bind(address=self.address)
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self.cluster, set_as_default=False)
            log = logger.bind(address=self.cluster.scheduler_address)
        self.generation += 1
        log.info("dask client connected", workers=self.capacity(refresh=True))
        self.check_cluster()
        return self

    def _warm_new(self, workers: Iterable[str]) -> None:
        """Have each worker not seen before (a new or restarted process) run
        ``domain.worker.warm_up`` (imports, numba kernels) now, in its task thread, rather
        than in the first chunk it gets. Not waited for: a chunk sent meanwhile queues behind
        it on that worker. Local workers first lower their CPU priority (see
        ``LOCAL_WORKER_NICENESS``); a cluster's workers are left as their owner started them."""
        assert self.client is not None
        for address in workers:
            if address in self._warmed:
                continue
            self._warmed.add(address)
            calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [(warm_up, ())]
            if self.cluster is not None:  # our own processes on this machine
                calls.insert(0, (yield_cpu, (LOCAL_WORKER_NICENESS,)))
            for function, args in calls:
                future = self.client.submit(
                    function, *args, key=f"{function.__name__}-{uuid.uuid4().hex}",
                    workers=[address], allow_other_workers=False, pure=False,
                )
                self._warming.add(future)  # held until done: a released future may never run
                future.add_done_callback(self._warming.discard)

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        for closable in (client, cluster):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # closing is best effort
                    logger.opt(exception=True).debug("closing dask resource failed")

    def __enter__(self) -> Executor:
        return self.start() if self.client is None else self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def local(self) -> bool:
        """The workers are this machine's processes, started here: they share its disk (a
        cluster's workers may not, so they send artifact files back with the chunk)."""
        return self.cluster is not None

    @property
    def scheduler_address(self) -> str | None:
        if self.client is None:
            return None
        return self.client.scheduler.address  # type: ignore[no-any-return]

    def connected(self) -> bool:
        return self.client is not None and self.client.status == "running"

    def ensure_connected(self) -> bool:
        """Whether the client can take work now. After the scheduler was lost, the client
        first tries to reconnect by itself; once it gave up, a new client is made (every
        ``RECONNECT_SECONDS``). Either way :attr:`generation` moves on: futures and scattered
        data from before are gone."""
        if self.client is None:
            return False
        status = self.client.status
        if status == "running":
            if self._interrupted:
                self._interrupted = False
                self.generation += 1
                logger.bind(address=self.scheduler_address).warning("dask scheduler reconnected")
            return True
        if not self._interrupted:
            self._interrupted = True
            logger.bind(status=status).warning("dask scheduler connection lost")
        if status in ("connecting", "newly-created") or time.monotonic() < self._next_attempt:
            return False
        self._next_attempt = time.monotonic() + RECONNECT_SECONDS
        target = self.address or (self.cluster.scheduler_address if self.cluster else None)
        try:
            self.client.close()
        except Exception:
            logger.opt(exception=True).debug("closing the lost client failed")
        try:
            self.client = Client(target, timeout=f"{RECONNECT_SECONDS}s", set_as_default=False)
        except Exception as exc:  # still unreachable: try again later
            logger.bind(error=str(exc)).warning("dask scheduler still unreachable")
            return False
        return self.ensure_connected()

    # -- work -------------------------------------------------------------------------------

    def capacity(self, *, refresh: bool = False) -> int:
        """Worker threads in the cluster (re-read at most once a second)."""
        checked, threads = self._capacity
        if self.client is not None and (refresh or time.monotonic() - checked > 1.0):
            try:
                workers = self.client.nthreads()
                threads = sum(workers.values())
                self._warm_new(workers)
            except Exception:
                logger.opt(exception=True).debug("reading cluster size failed")
            self._capacity = (time.monotonic(), threads)
        return threads

    def scatter(self, data: Any) -> Future:
        assert self.client is not None
        return self.client.scatter(data, broadcast=True, hash=False)  # type: ignore[no-any-return]

    def scatter_bars(self, bars: Bars) -> Future:
        """``bars`` on every worker: scattered once, then the same future for every job on the
        same bars while it is among the ``SHARED_DATASETS`` last used (and the cluster the one
        it was scattered to). Main thread only."""
        key = bars_key(bars)
        found = self._scattered.get(key)
        if found is not None and found[1] == self.generation and found[0].status == "finished":
            self._scattered.move_to_end(key)
            return found[0]
        future = self.scatter(bars)
        self._scattered[key] = (future, self.generation)
        self._scattered.move_to_end(key)
        while len(self._scattered) > SHARED_DATASETS:
            self._scattered.popitem(last=False)
        return future

    def forget_bars(self, bars: Bars) -> None:
        """Scatter ``bars`` anew next time (a chunk using them was lost: so may they be)."""
        self._scattered.pop(bars_key(bars), None)

    def submit(
        self,
        task: Any,
        data: Future,
        *,
        key: str,
        on_done: Callable[[Future], None],
        function: ChunkFunction | None = None,
        priority: int = 0,
    ) -> Future:
        """Run the chunk function on a worker; ``on_done(future)`` is called (from Dask's
        thread) once it finished, failed or was cancelled. A higher ``priority`` runs before
        chunks already waiting on the worker."""
        assert self.client is not None
        future = self.client.submit(
            function or self.chunk_function,
            task,
            data,
            key=key,
            pure=False,
            retries=max(0, self.max_attempts - 1),
            priority=priority,
        )
        future.add_done_callback(on_done)
        return future

    def cancel(self, futures: Iterable[Future]) -> None:
        pending = [f for f in futures if not f.done()]
        if pending and self.client is not None:
            try:
                self.client.cancel(pending)
            except Exception:
                logger.opt(exception=True).debug("canceling futures failed")

    # -- checks -----------------------------------------------------------------------------

    def worker_environments(self) -> dict[str, dict[str, Any]]:
        assert self.client is not None
        return self.client.run(_worker_environment)  # type: ignore[no-any-return]

    def check_cluster(self) -> None:
        """Warn about a cluster that was started without this app's Dask configuration."""
        assert self.client is not None
        try:
            envs = self.worker_environments()
            saturation = self.client.run_on_scheduler(
                lambda dask_scheduler: dask_scheduler.WORKER_SATURATION
            )
        except Exception:
            logger.opt(exception=True).warning("could not inspect the dask cluster")
            return
        trimmed = sorted(a for a, env in envs.items() if env.get("malloc_trim") is not None)
        if trimmed:
            logger.bind(workers=trimmed).warning(
                "workers run with MALLOC_TRIM_THRESHOLD_ set (slow on numpy work); start them "
                "with DASK_CONFIG pointing at optimizer_app/orchestration/dask.yaml"
            )
        if not math.isinf(float(saturation)):
            logger.bind(worker_saturation=saturation).info(
                "scheduler queues tasks itself (worker-saturation is not inf)"
            )

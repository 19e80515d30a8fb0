"""A dataset is scattered to the workers once and shared by the jobs on the same bars (a
broadcast per job held the orchestrator up ~30 ms each); scattered anew after a loss."""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer_app.domain.datasets import load_bundled_bars
from optimizer_app.orchestration.executor import SHARED_DATASETS, bars_key
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import SMALL_SPACE, running, submit, wait_terminal


def test_jobs_on_the_same_bars_share_one_scatter(backend: Backend) -> None:
    executor = backend.executor
    goog, msft = load_bundled_bars("goog-daily"), load_bundled_bars("msft-daily")
    first = executor.scatter_bars(goog)
    assert executor.scatter_bars(load_bundled_bars("goog-daily")) is first  # equal bars
    assert executor.scatter_bars(msft) is not first
    assert first.result().close.tolist() == goog.close.tolist()  # the workers have them
    # other volumes are other bars (the content key covers every column)
    louder = dataclasses.replace(goog, volume=np.asarray(goog.volume) + 1)
    assert bars_key(louder) != bars_key(goog)
    assert executor.scatter_bars(louder) is not first

    executor.forget_bars(goog)  # a chunk on them was lost
    again = executor.scatter_bars(goog)
    assert again is not first and executor.scatter_bars(goog) is again


def test_only_the_last_datasets_are_kept(backend: Backend) -> None:
    executor = backend.executor
    goog = load_bundled_bars("goog-daily")
    kept = executor.scatter_bars(goog)
    for shift in range(1, SHARED_DATASETS + 1):
        executor.scatter_bars(dataclasses.replace(goog, close=np.asarray(goog.close) + shift))
    assert executor.scatter_bars(goog) is not kept  # pushed out by newer ones


def test_jobs_after_a_reconnection_scatter_again(backend: Backend) -> None:
    executor = backend.executor
    goog = load_bundled_bars("goog-daily")
    before = executor.scatter_bars(goog)
    executor.generation += 1  # as a reconnection does: what was scattered before is gone
    try:
        assert executor.scatter_bars(goog) is not before
    finally:
        executor.generation -= 1
        executor.forget_bars(goog)


def test_two_jobs_on_one_dataset_both_complete(backend: Backend) -> None:
    with running(backend):
        jobs = [submit(backend, SMALL_SPACE) for _ in range(2)]
        for job in jobs:
            assert wait_terminal(backend, job.id).status == "succeeded"

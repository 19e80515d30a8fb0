"""A shuffled job runs its grid in its seed's order: a job stopped early has sampled the whole
grid, not its first values; resumed, it keeps the same order."""

from __future__ import annotations

import numpy as np

from optimizer_app.domain.order import run_order
from optimizer_app.persistence import results_store
from optimizer_app.persistence.db import session_scope
from tests.integration.orchestration.conftest import Backend
from tests.integration.orchestration.helpers import (
    LARGE_SPACE,
    assert_books_balance,
    running,
    submit,
    wait_terminal,
)


def test_an_early_stopped_shuffled_job_has_sampled_the_whole_grid(backend: Backend) -> None:
    policy = {"mode": "max", "metric": "sharpe", "topN": 5, "targetScore": -100,
              "minTasks": 400}
    job = submit(backend, LARGE_SPACE, policy, seed=1234)
    assert (job.grid_order, job.seed) == ("shuffled", 1234)
    with running(backend):
        final = wait_terminal(backend, job.id, timeout=120)
    assert final.status == "early-stopped"
    total = final.summary.total
    with session_scope(readonly=True) as session:
        files = results_store.job_results(session=session, job_id=job.id)
    done = results_store.stored_indices(files.paths)[0]
    assert 400 <= len(done) < total
    assert_books_balance(job.id, complete=False)
    # Index order would have run only the first fast values; this sample spans the grid.
    assert done.min() < total * 0.05 and done.max() > total * 0.95
    assert np.bincount(done * 4 // total, minlength=4).min() > len(done) // 8
    # ... and it is a prefix-like sample of the seed's order: mostly its first combinations.
    head = set(run_order(total, "shuffled", 1234)[: len(done) * 2].tolist())
    assert np.isin(done, list(head)).mean() > 0.9

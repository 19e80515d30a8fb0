"""The results store's reads, against a brute-force reading of the same rows: pages in every
order at any offset (per-chunk files and compacted), the status filter, one row, and the
best score per value pair — live and precomputed — for both directions."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from optimizer_app.domain.results_file import chunk_table, write_table
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.persistence import results_store
from optimizer_app.persistence.results_store import JobResults

TOTAL = 3_000


def _chunked_job(rng: np.random.Generator) -> tuple[JobResults, dict[int, dict]]:
    """A job of TOTAL combinations (a, b, c grid) in shuffled chunks; some rows failed, some
    fail a constraint, some scores tie."""
    job_id = uuid.uuid4()
    folder = results_store.job_dir(job_id)
    order = rng.permutation(TOTAL)
    names, expected, failed_total = [], {}, 0
    for chunk in np.array_split(order, 7):
        a, b, c = chunk // 100, (chunk // 10) % 10, chunk % 10
        params = {"a": a, "b": b * 0.5, "c": c}
        if len(names) == 3:  # a chunk that failed as a whole
            table = chunk_table(indices=chunk, params=params, scores=None, passes=None,
                                metrics=None)
            failed_total += len(chunk)
            for i in chunk.tolist():
                expected[i] = {"status": "failed", "score": None,
                               "params": {"a": i // 100, "b": (i // 10) % 10 * 0.5, "c": i % 10}}
        else:
            scores = np.round(rng.normal(size=len(chunk)), 2)  # ties
            scores[rng.random(len(chunk)) < 0.02] = np.nan
            passes = rng.random(len(chunk)) > 0.1
            metrics = {k: rng.normal(size=len(chunk)) for k in METRIC_KEYS}
            metrics["trades"] = rng.integers(0, 40, len(chunk))
            table = chunk_table(indices=chunk, params=params, scores=scores, passes=passes,
                                metrics=metrics)
            for k, i in enumerate(chunk.tolist()):
                ok = bool(passes[k]) and np.isfinite(scores[k])
                expected[i] = {"status": "succeeded", "score": float(scores[k]) if ok else None,
                               "params": {"a": i // 100, "b": (i // 10) % 10 * 0.5,
                                          "c": i % 10}}
        names.append(write_table(table, folder)[0])
    results = JobResults(job_id, tuple(names), False, TOTAL, failed_total, 0)
    return results, expected


def _expected_order(expected: dict[int, dict], *, sort: str, descending: bool,
                    status: str | None) -> list[int]:
    rows = [(i, r) for i, r in expected.items() if status is None or r["status"] == status]
    if sort == "index":
        return sorted((i for i, _ in rows), reverse=descending)
    scored = [(i, r["score"]) for i, r in rows if r["score"] is not None]
    unscored = sorted(i for i, r in rows if r["score"] is None)
    scored.sort(key=lambda t: ((-t[1] if descending else t[1]), t[0]))
    return [i for i, _ in scored] + unscored


def _compacted(results: JobResults, *, descending: bool) -> JobResults:
    made = results_store.compact_files(results, descending=descending)
    data = made[0]
    kinds = {f.kind: f.name for f in made}
    return JobResults(results.job_id, (data.name,), True, data.rows, data.failed,
                      sum(f.size for f in made), index_name=kinds[results_store.INDEX_KIND],
                      pairs_name=kinds.get(results_store.PAIRS_KIND))


@pytest.mark.parametrize("descending_job", [True, False])
def test_pages_agree_with_brute_force_before_and_after_compaction(descending_job: bool) -> None:
    rng = np.random.default_rng(7)
    chunked, expected = _chunked_job(rng)
    compacted = _compacted(chunked, descending=descending_job)
    assert (compacted.rows, compacted.failed) == (chunked.rows, chunked.failed)
    for results in (chunked, compacted):
        for sort in ("score", "index"):
            for descending in (True, False):
                for status in (None, "failed", "succeeded"):
                    order = _expected_order(expected, sort=sort, descending=descending,
                                            status=status)
                    for offset in (0, 17, len(order) // 2, max(0, len(order) - 5)):
                        page = results_store.page(
                            results, sort=sort, descending=descending, offset=offset,
                            limit=10, status=status, best_first_descending=descending_job)
                        got = [row["index"] for row in page]
                        assert got == order[offset:offset + 10], (sort, descending, status,
                                                                   offset, results.compacted)
                        for row in page:
                            want = expected[row["index"]]
                            assert row["status"] == want["status"]
                            assert row["score"] == want["score"]
                            assert row["params"] == want["params"]
                            assert (row["metrics"] is None) == (want["status"] == "failed")
    for index in (0, 1234, TOTAL - 1):
        for results in (chunked, compacted):
            row = results_store.row_at(results, index)
            assert row is not None and row["index"] == index
            assert row["score"] == expected[index]["score"]
    assert results_store.row_at(compacted, TOTAL + 5) is None


def _brute_cells(expected: dict[int, dict], x: str, y: str | None, *, maximize: bool,
                 cell: Callable[[str, float], float] = lambda _name, value: value,
                 ) -> dict[tuple, tuple[float, int]]:
    """Brute force: the best score per cell (``cell`` names a value's cell) and the lowest
    index holding it."""
    cells: dict[tuple, tuple[float, int]] = {}
    for i in sorted(expected):
        row = expected[i]
        if row["score"] is None:
            continue
        key = (cell(x, row["params"][x]), cell(y, row["params"][y]) if y else None)
        best = cells.get(key)
        if best is None or (row["score"] > best[0] if maximize else row["score"] < best[0]):
            cells[key] = (row["score"], i)
    return cells


@pytest.mark.parametrize("maximize", [True, False])
def test_best_by_pair_live_and_precomputed(maximize: bool) -> None:
    rng = np.random.default_rng(11)
    chunked, expected = _chunked_job(rng)
    compacted = _compacted(chunked, descending=maximize)
    for x, y in (("a", "b"), ("c", "a"), ("b", None)):
        cells = _brute_cells(expected, x, y, maximize=maximize)
        for results in (chunked, compacted):
            got = {(c["x"], c["y"]): (c["score"], c["index"])
                   for c in results_store.best_by_pair(results, x, y, maximize=maximize)}
            assert got == cells, (x, y, results.compacted)


@pytest.mark.parametrize("maximize", [True, False])
def test_every_pair_in_one_pass_equals_each_pair_read_alone(maximize: bool) -> None:
    """A running job's heatmap reads every pair at once; each must be what reading that pair
    alone gives (the same cells, scores and holders), both ways round and each parameter."""
    chunked, _ = _chunked_job(np.random.default_rng(5))
    compacted = _compacted(chunked, descending=maximize)
    for results in (chunked, compacted):
        every = results_store.every_pair_cells(results, ["a", "b", "c"], maximize=maximize)
        assert set(every) == {(x, y) for x in "abc" for y in [*"abc", None] if x != y}
        for (x, y), (xs, ys, scores, indices) in every.items():
            alone = results_store.best_cells(results, x, y, maximize=maximize)
            def cells(xs, ys, scores, indices):  # noqa: ANN001, ANN202
                ys_list = ys.tolist() if ys is not None else [None] * len(xs)
                return sorted(zip(xs.tolist(), ys_list, scores.tolist(), indices.tolist(),
                                  strict=True))
            assert cells(xs, ys, scores, indices) == cells(*alone), (x, y, results.compacted)
            assert len(xs) > 1


@pytest.mark.parametrize("maximize", [True, False])
def test_dense_axes_are_grouped_in_the_aggregation(maximize: bool) -> None:
    """With ``buckets`` a cell is a group of consecutive values (a dense axis drawn in a few
    hundred pixels): its best score over every combination in the group, held by the lowest
    index among ties, named by the group's first value; live and precomputed, each pair read
    alone and every pair in one pass (a running job's read), as brute force says."""
    chunked, expected = _chunked_job(np.random.default_rng(13))
    compacted = _compacted(chunked, descending=maximize)
    grid = {"a": list(range(30)), "b": [k * 0.5 for k in range(10)], "c": list(range(10))}
    steps = {"a": 4, "b": 3, "c": 1}  # 30 values in groups of 4, 10 in groups of 3, as they are
    buckets = {name: (values, steps[name]) for name, values in grid.items()}

    def first(name: str, value: float) -> float:
        at = grid[name].index(value)
        return grid[name][at - at % steps[name]]

    for x, y in (("a", "b"), ("b", "c"), ("a", None)):
        cells = _brute_cells(expected, x, y, maximize=maximize, cell=first)
        assert len(cells) < len({(r["params"][x], r["params"][y] if y else None)
                                 for r in expected.values() if r["score"] is not None})
        for results in (chunked, compacted):
            every = results_store.every_pair_cells(results, ["a", "b", "c"], maximize=maximize,
                                                   buckets=buckets)
            for found in (results_store.best_cells(results, x, y, maximize=maximize,
                                                   buckets=buckets), every[(x, y)]):
                xs, ys, scores, indices = found
                ys_list = ys.tolist() if ys is not None else [None] * len(xs)
                got = {(a, b): (s, i) for a, b, s, i in zip(
                    xs.tolist(), ys_list, scores.tolist(), indices.tolist(), strict=True)}
                assert got == cells, (x, y, results.compacted)


@pytest.mark.parametrize("budget", [150, 5])
def test_compaction_precomputes_the_pairs_that_fit_and_the_others_are_read_from_the_rows(
        budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pair with too many cells to aggregate in the compaction's memory (two dense
    parameters) is left out of the pairs file, which lists the sets it holds; the heatmap of
    a left-out pair aggregates the compacted rows and still agrees with brute force. With no
    set fitting at all there is no pairs file."""
    monkeypatch.setattr(results_store, "PAIR_CELLS", budget)
    chunked, expected = _chunked_job(np.random.default_rng(17))  # a: 30 values, b and c: 10
    compacted = _compacted(chunked, descending=True)
    if budget == 5:  # not even one parameter alone (10 values at least)
        assert compacted.pairs_name is None
    else:  # the three alone (50 cells) and b by c (100); a by b and a by c (300 each) left out
        path = compacted.path(compacted.pairs_name or "")
        held = pq.read_schema(path).metadata[results_store.PAIR_SETS_KEY.encode()].decode()
        assert sorted(held.split(";")) == ["p_a", "p_b", "p_b,p_c", "p_c"]
    for x, y in (("a", "b"), ("b", "c"), ("c", "b"), ("a", None)):
        cells = _brute_cells(expected, x, y, maximize=True)
        got = {(c["x"], c["y"]): (c["score"], c["index"])
               for c in results_store.best_by_pair(compacted, x, y, maximize=True)}
        assert got == cells, (x, y)


def test_the_compaction_engine_is_kept_between_jobs_and_closed_on_request() -> None:
    first, _ = _chunked_job(np.random.default_rng(7))
    second, _ = _chunked_job(np.random.default_rng(8))
    _compacted(first, descending=True)
    engine = results_store._local.compaction
    assert engine is not None
    _compacted(second, descending=True)
    assert results_store._local.compaction is engine  # no new instance per job
    results_store.close_compaction_engine()
    assert results_store._local.compaction is None
    with pytest.raises(duckdb.ConnectionException):
        engine.execute("SELECT 1")
    again, _ = _chunked_job(np.random.default_rng(9))
    assert _compacted(again, descending=False).compacted  # a new one when needed
    results_store.close_compaction_engine()

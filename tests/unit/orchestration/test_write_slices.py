"""How a chunk's rows are cut into write transactions."""

from __future__ import annotations

from optimizer_app.orchestration.writer import _slices
from optimizer_app.persistence.tasks import TaskBatch


def _batch(rows: int, linked: set[int]) -> TaskBatch:
    return TaskBatch(
        shared=("job", "succeeded", 1, None, "t0", "t1"),
        rows=[(f"id{i}", i, "{}", float(i), "[]", f"r{i}" if i in linked else None)
              for i in range(rows)],
    )


def test_every_row_is_written_once_and_linked_rows_come_last() -> None:
    batch = _batch(1_000, linked={3, 500, 999})
    head, last = _slices(batch, 128)
    indices = [row[1] for part in [*head, last] for row in part.rows]
    assert sorted(indices) == list(range(1_000))
    assert all(len(part) == 128 for part in head[:-1]) and all(len(p) <= 128 for p in head)
    assert {row[1] for row in last.rows if row[5]} == {3, 500, 999}
    assert not any(row[5] for part in head for row in part.rows)
    assert len(last) == 128  # the linked rows and the last plain ones, one slice in all


def test_a_small_chunk_is_one_transaction() -> None:
    head, last = _slices(_batch(50, linked={1}), 128)
    assert head == [] and len(last) == 50


def test_more_linked_rows_than_a_slice_still_go_together() -> None:
    head, last = _slices(_batch(300, linked=set(range(0, 300, 2))), 100)
    assert all(row[5] is None for part in head for row in part.rows)
    assert sum(len(part) for part in head) == 150 and len(last) == 150

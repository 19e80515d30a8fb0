"""The failures panel's rows: categories in a fixed order with human labels, messages cut to
a readable length, parameters as typed."""

from __future__ import annotations

import uuid

from optimizer_app.services.schemas import TaskPublic
from optimizer_app.ui.failures_view import MESSAGE_LIMIT, failed_rows, failure_counts


def test_counts_follow_the_vocabulary_order_with_labels() -> None:
    rows = failure_counts({"timeout": 2, "data": 1_234, "lost": 0, "mystery": 1})
    assert [r.category for r in rows] == ["data", "timeout", "mystery"]
    assert [r.label for r in rows] == ["Data", "Timed out", "Mystery"]
    assert rows[0].count == "1,234" and rows[0].meaning
    assert failure_counts({}) == []


def test_failed_rows_are_readable() -> None:
    task = TaskPublic(id=uuid.uuid4(), job_id=uuid.uuid4(), index=12_345,
                      params={"fast": 10, "slow": 2.5}, status="failed",
                      error="ValueError: " + "x" * 1000, error_category="strategy")
    [row] = failed_rows([task])
    assert row.index == "#12,345" and row.params == "fast 10, slow 2.5"
    assert row.category == "Strategy error" and row.color == "red"
    assert len(row.error) == MESSAGE_LIMIT and row.error.endswith("…")
    legacy = task.model_copy(update={"error": None, "error_category": None})
    [old] = failed_rows([legacy])
    assert old.category == "Unknown" and old.error == "no message recorded"

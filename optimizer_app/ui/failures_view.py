"""What the detail page's failures panel shows: counts per category and the failed
combinations (pure: from service models to display rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimizer_app.services.schemas import TaskPublic
from optimizer_app.ui import format as fmt
from optimizer_app.ui.vocabulary import FAILURES, failure_label

MESSAGE_LIMIT = 300  # characters of an error shown in the panel (failures.csv has them all)


@dataclass
class FailureCount:
    category: str
    label: str
    meaning: str
    count: str
    color: str


@dataclass
class FailedRow:
    index: str
    params: str
    category: str
    error: str
    color: str


def failure_counts(failures: dict[str, int]) -> list[FailureCount]:
    """One row per category with failures, in the vocabulary's order (unknown ones last)."""
    order = [c for c in FAILURES if failures.get(c)] + sorted(
        c for c in failures if c not in FAILURES and failures[c]
    )
    rows = []
    for category in order:
        style = FAILURES.get(category)
        rows.append(FailureCount(
            category=category, label=failure_label(category),
            meaning=style.meaning if style else "", count=fmt.count(failures[category]),
            color=style.color if style else "gray",
        ))
    return rows


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{name} {fmt.plain_number(value)}" for name, value in params.items())


def failed_rows(tasks: list[TaskPublic]) -> list[FailedRow]:
    rows = []
    for task in tasks:
        error = (task.error or "no message recorded").strip()
        if len(error) > MESSAGE_LIMIT:
            error = error[: MESSAGE_LIMIT - 1] + "…"
        style = FAILURES.get(task.error_category or "")
        rows.append(FailedRow(
            index=f"#{fmt.count(task.index)}", params=_params_text(task.params),
            category=failure_label(task.error_category), error=error,
            color=style.color if style else "gray",
        ))
    return rows

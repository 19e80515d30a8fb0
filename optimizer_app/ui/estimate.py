"""What the new-job form says about a job before it is submitted: its run time (from the
strategy's measured cost on data of this length, or a default, said so), the storage it
would take, and the quotas it would exceed. Pure functions over values read once."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer_app.services.queue import DEFAULT_COST, storage_estimate
from optimizer_app.ui import format as fmt


@dataclass(frozen=True)
class Headroom:
    """What is left of the user's quotas (None: no limit)."""

    combinations_today: int | None = None
    stored_bytes: int | None = None
    live_jobs: int | None = None


def run_time_text(total: int | None, rows: int, cost: float | None) -> str:
    """``About 42 s`` (measured) or ``About 42 s (estimate: …)``; empty without a valid grid."""
    if not total or rows <= 0:
        return ""
    seconds = total * rows * (cost if cost is not None else DEFAULT_COST)
    shown = "Under a second" if seconds < 1 else f"About {fmt.duration(seconds)}"
    if cost is None:
        return f"{shown} (estimate: no job of this strategy has finished yet)"
    return f"{shown}, from earlier runs of this strategy"


def storage_text(total: int | None) -> str:
    return f"About {fmt.size(storage_estimate(total))} of results" if total else ""


def quota_warnings(total: int | None, headroom: Headroom) -> list[str]:
    """The quotas this job would exceed, each as a sentence (empty: it fits)."""
    if not total:
        return []
    warnings = []
    if headroom.live_jobs is not None and headroom.live_jobs <= 0:
        warnings.append("You have as many queued or running jobs as your quota allows; "
                        "wait for one to finish or cancel one.")
    left = headroom.combinations_today
    if left is not None and total > left:
        warnings.append(f"This job has {fmt.count(total)} combinations but only "
                        f"{fmt.count(left)} are left of today's quota (it resets at "
                        "00:00 UTC).")
    room = headroom.stored_bytes
    if room is not None and storage_estimate(total) > room:
        warnings.append(f"This job would store about {fmt.size(storage_estimate(total))} but only "
                        f"{fmt.size(room)} of your storage quota is left; delete old jobs.")
    return warnings

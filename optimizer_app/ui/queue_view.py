"""A queued job's place in the queue and a running job's share of the workers, as the detail
page says them. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from optimizer_app.services.schemas import QueueInfo
from optimizer_app.ui import format as fmt


@dataclass
class QueueView:
    headline: str = ""  # empty: not queued
    reason: str = ""


def queue_view(queue: QueueInfo | None, now: datetime) -> QueueView:
    if queue is None:
        return QueueView()
    headline = f"Position {fmt.count(queue.position)} in the queue"
    if queue.estimated_start is not None:
        wait = (fmt.as_utc(queue.estimated_start) - fmt.as_utc(now)).total_seconds()
        when = "in a moment" if wait < 2 else f"in about {fmt.duration(wait)}"
        headline += f" · expected to start {when} ({fmt.clock(queue.estimated_start)})"
    reason = queue.reason
    if reason.endswith(" in the queue") or " in the queue; " in reason:
        reason = reason.split("; ", 1)[-1] if "; " in reason else ""  # the headline says it
    reason = reason[:1].upper() + reason[1:]
    return QueueView(headline, reason if not reason or reason.endswith(".") else reason + ".")


def share_text(share: float | None) -> str:
    if share is None:
        return ""
    if share >= 1:
        return "Has all of the workers: no other job is running."
    return (f"Has about {fmt.percent(share, 0)} of the workers: chunks are sent to the running "
            "jobs in turn.")

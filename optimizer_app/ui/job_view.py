"""A job as the detail page shows it: display-ready rows and texts computed from the service
models. Pure functions of their inputs (the current time is passed in), unit-tested."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from optimizer_app.services.schemas import JobPublic, JobSummary, TopNEntry
from optimizer_app.ui import format as fmt
from optimizer_app.ui import routes
from optimizer_app.ui.vocabulary import (
    direction_text,
    is_live,
    is_percent,
    metric_label,
    show_metric,
)

KEY_METRICS = ("totalReturn", "sharpe", "maxDrawdown", "trades")


@dataclass
class TopRow:
    rank: int
    task: str  # "#12": the combination's index in the grid
    task_id: str
    score: str
    params: str
    total_return: str
    sharpe: str
    max_drawdown: str
    trades: str
    rerun_href: str


@dataclass
class Timing:
    elapsed: str = fmt.MISSING
    eta: str = fmt.MISSING
    queue_wait: str = fmt.MISSING
    exec_time: str = fmt.MISSING


def param_text(params: dict[str, Any]) -> str:
    """``fast 10 · slow 50`` (parameter names as declared, values as typed)."""
    return " · ".join(f"{name} {fmt.plain_number(value)}" for name, value in params.items())


def sort_top(entries: list[TopNEntry], mode: str) -> list[TopNEntry]:
    """Best first for the job's mode; ties keep the earlier combination first."""
    finite = [e for e in entries if isinstance(e.score, (int, float)) and math.isfinite(e.score)]
    sign = 1 if mode == "min" else -1
    return sorted(finite, key=lambda e: (sign * e.score, e.index))


def best_curve(job: JobPublic, mode: str) -> list[dict[str, float]]:
    """Points of the best score against finished combinations, as a step line: each
    improvement, then the best so far carried to the current count. It ends at the Top-N
    table's best: the history may be a few seconds older than the summary it is shown with."""
    points = [{"finished": float(done), "best": score} for done, score in job.best_history]
    finished = float(job.summary.finished)
    ranked = sort_top(list(job.summary.top_n), mode)
    if ranked and (not points or points[-1]["best"] != ranked[0].score):
        at = max(finished, points[-1]["finished"]) if points else finished
        points.append({"finished": at, "best": ranked[0].score})
    if points and finished > points[-1]["finished"]:
        points.append({"finished": finished, "best": points[-1]["best"]})
    return points


def chart_units(points: list[dict[str, float]], metric: str) -> list[dict[str, float]]:
    """The curve in the table's unit: a percent metric as percent (0.2969 → 29.69), every
    value rounded as the table shows it."""
    if not is_percent(metric):
        return [{**p, "best": round(p["best"], 4)} for p in points]
    return [{**p, "best": round(100 * p["best"], 2)} for p in points]


def top_rows(job_id: str, summary: JobSummary, metric: str, mode: str) -> list[TopRow]:
    rows = []
    for rank, entry in enumerate(sort_top(list(summary.top_n), mode), start=1):
        metrics = entry.metrics or {}
        rows.append(
            TopRow(
                rank=rank,
                task=f"#{entry.index:,}",
                task_id=str(entry.task_id),
                score=show_metric(metric, entry.score),
                params=param_text(entry.params),
                total_return=show_metric("totalReturn", metrics.get("totalReturn")),
                sharpe=show_metric("sharpe", metrics.get("sharpe")),
                max_drawdown=show_metric("maxDrawdown", metrics.get("maxDrawdown")),
                trades=show_metric("trades", metrics.get("trades")),
                rerun_href=routes.rerun(job_id, entry.index),
            )
        )
    return rows


def sort_label(metric: str, mode: str) -> str:
    return f"Ranked by {metric_label(metric)}: {direction_text(mode)}"


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (fmt.as_utc(end) - fmt.as_utc(start)).total_seconds())


def timing(job: JobPublic, summary: JobSummary, now: datetime) -> Timing:
    """Elapsed since submission, the ETA from the rate so far, the queue wait and the run time."""
    live = is_live(job.status)
    end = now if live else (job.finished_at or job.updated_at or now)
    exec_seconds = job.exec_seconds
    if exec_seconds is None and job.started_at is not None:
        exec_seconds = _seconds_between(job.started_at, end)
    queue_wait = job.queue_wait_seconds
    if queue_wait is None:
        queue_wait = _seconds_between(job.created_at, job.started_at or end)
    done = summary.finished + summary.failed
    if not live:
        eta = "Done"
    elif job.status == "running" and done > 0 and exec_seconds:
        eta = fmt.duration(max(0, summary.total - done) * exec_seconds / done)
    else:
        eta = "Estimating…"
    return Timing(
        elapsed=fmt.duration(_seconds_between(job.created_at, end)),
        eta=eta,
        queue_wait=fmt.duration(queue_wait),
        exec_time=fmt.duration(exec_seconds) if exec_seconds is not None else "Not started",
    )


def progress_text(summary: JobSummary) -> str:
    """``1,234 / 5,000``: combinations done (finished or failed) over the total."""
    return f"{fmt.count(summary.finished + summary.failed)} / {fmt.count(summary.total)}"


def final_numbers(summary: JobSummary, metric: str, mode: str) -> str:
    ranked = sort_top(list(summary.top_n), mode)
    best = f"; best {metric_label(metric)} {show_metric(metric, ranked[0].score)}" if ranked else ""
    failed = f", {fmt.count(summary.failed)} failed" if summary.failed else ""
    return (
        f"{fmt.count(summary.finished)} of {fmt.count(summary.total)} combinations finished"
        f"{failed}{best}."
    )


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def banner(job: JobPublic, summary: JobSummary, metric: str, mode: str) -> tuple[str, str]:
    """The title and text of the banner over a stopped job, or ("", "")."""
    numbers = final_numbers(summary, metric, mode)
    if job.status == "early-stopped":
        reason = _sentence(job.stop_reason or "a stop rule was met")
        return "Stopped early", f"{reason} {numbers}"
    if job.status == "canceled":
        return "Canceled", f"This optimization was canceled. {numbers}"
    if job.status == "failed":
        return "Failed", f"{_sentence(job.error or 'the job could not run')} {numbers}"
    return "", ""

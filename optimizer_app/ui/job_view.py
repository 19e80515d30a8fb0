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
    places_to_tell_apart,
    show_metric,
    show_score,
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
    href: str = ""  # the combination's own page
    group: int = 0  # rank of the first row with the same trades (its own rank if none before)
    identical: int = 0  # on a group's first row: how many rows below have the same trades
    member: bool = False  # a row whose trades equal a row above it (hidden until expanded)


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


def same_trades(a: TopNEntry, b: TopNEntry) -> bool:
    """Two combinations that traded identically: every metric (and so the score) equal."""
    return bool(a.metrics) and a.metrics == b.metrics and a.score == b.score


def grouped(ranked: list[TopNEntry]) -> list[TopNEntry]:
    """The ranking with every combination that traded like an earlier one moved up to follow
    it (they tie on the score, so the ranking stays best first)."""
    groups: list[list[TopNEntry]] = []
    for entry in ranked:
        for group in groups:
            if same_trades(group[0], entry):
                group.append(entry)
                break
        else:
            groups.append([entry])
    return [entry for group in groups for entry in group]


def score_places(metric: str, entries: list[TopNEntry]) -> int:
    """Decimals at which the Top-N's different scores read differently."""
    return places_to_tell_apart(metric, [e.score for e in entries])


def chart_units(points: list[dict[str, float]], metric: str) -> list[dict[str, float]]:
    """The curve in the table's unit: a percent metric as percent (0.2969 → 29.69), every
    value rounded as the table shows it."""
    if not is_percent(metric):
        return [{**p, "best": round(p["best"], 4)} for p in points]
    return [{**p, "best": round(100 * p["best"], 2)} for p in points]


def top_rows(job_id: str, summary: JobSummary, metric: str, mode: str) -> list[TopRow]:
    """The Top-N best first, each score with enough decimals to tell ranks apart; a row with
    the same trades as the row above joins that row's group."""
    ranked = grouped(sort_top(list(summary.top_n), mode))
    places = score_places(metric, ranked)

    def shown(key: str, value: Any) -> str:
        """A key metric; the score's own metric with the score's decimals (they read alike)."""
        return show_score(key, value, places) if key == metric else show_metric(key, value)

    rows: list[TopRow] = []
    for rank, entry in enumerate(ranked, start=1):
        metrics = entry.metrics or {}
        member = rank > 1 and same_trades(ranked[rank - 2], entry)
        group = rows[-1].group if member else rank
        if member:
            rows[group - 1].identical += 1
        rows.append(
            TopRow(
                rank=rank,
                task=f"#{entry.index:,}",
                task_id=str(entry.task_id),
                score=show_score(metric, entry.score, places),
                params=param_text(entry.params),
                total_return=shown("totalReturn", metrics.get("totalReturn")),
                sharpe=shown("sharpe", metrics.get("sharpe")),
                max_drawdown=shown("maxDrawdown", metrics.get("maxDrawdown")),
                trades=shown("trades", metrics.get("trades")),
                rerun_href=routes.rerun(job_id, entry.index),
                href=routes.combination(job_id, entry.index),
                group=group,
                member=member,
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
    best = (
        f"; best {metric_label(metric)} "
        f"{show_score(metric, ranked[0].score, score_places(metric, ranked))}"
        if ranked else ""
    )
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

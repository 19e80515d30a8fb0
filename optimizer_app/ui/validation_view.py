"""A job's validation and parameter stability as the detail page shows them: display-ready
rows and texts from the service answers. Pure functions, unit-tested."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from optimizer_app.ui import format as fmt
from optimizer_app.ui.job_view import param_text
from optimizer_app.ui.vocabulary import (
    metric_label,
    places_to_tell_apart,
    show_metric,
    show_score,
)

MAX_CURVE_POINTS = 600  # the stitched equity is thinned to about this many points


@dataclass
class HoldoutRow:
    rank: int
    params: str
    in_score: str
    out_score: str
    change: str
    change_color: str  # "green" (better out of sample), "red" (worse), "gray"
    in_return: str
    out_return: str
    out_drawdown: str
    out_trades: str


@dataclass
class FoldRow:
    fold: int
    train: str
    test: str
    params: str
    in_score: str
    out_score: str
    out_return: str


@dataclass
class StabilityRow:
    rank: int
    params: str
    score: str
    mean: str
    worst: str
    neighbours: str


@dataclass
class ValidationView:
    kind: str = ""  # "", "holdout", "walkforward"
    status: str = ""  # "pending", "done", "failed"
    settings_text: str = ""
    split_text: str = ""
    error: str = ""
    progress_text: str = ""
    holdout: list[HoldoutRow] = field(default_factory=list)
    scatter: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)  # of the whole grid
    folds: list[FoldRow] = field(default_factory=list)
    curve: list[dict[str, Any]] = field(default_factory=list)
    efficiency: str = fmt.MISSING
    out_annual: str = fmt.MISSING
    in_annual: str = fmt.MISSING


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def settings_text(settings: dict[str, Any]) -> str:
    """``Hold-out: the last 30% of the bars`` or ``Walk-forward: 5 rolling folds …``."""
    if settings.get("kind") == "holdout":
        if settings.get("fraction") is not None:
            return f"Hold-out: the last {fmt.percent(settings['fraction'], 0)} of the bars"
        return f"Hold-out: every bar from {settings.get('start')}"
    if settings.get("kind") == "walkforward":
        window = "anchored" if settings.get("anchored") else "rolling"
        return (f"Walk-forward: {fmt.count(settings.get('folds'))} {window} folds of "
                f"{fmt.count(settings.get('trainBars'))} training and "
                f"{fmt.count(settings.get('testBars'))} test bars")
    return ""


def window_text(window: dict[str, Any] | None) -> str:
    if not window:
        return fmt.MISSING
    return f"{window.get('start')} – {window.get('end')} ({fmt.count(window.get('bars'))} bars)"


def change(metric: str, mode: str, before: Any, after: Any) -> tuple[str, str]:
    """The change of a score out of sample, in the metric's unit, and its colour."""
    a, b = _number(before), _number(after)
    if a is None or b is None:
        return fmt.MISSING, "gray"
    delta = b - a
    sign = "+" if delta > 0 else ""
    better = delta > 0 if mode == "max" else delta < 0
    color = "gray" if delta == 0 else ("green" if better else "red")
    return f"{sign}{show_metric(metric, delta)}", color


def _holdout_rows(rows: list[dict[str, Any]], metric: str, mode: str) -> list[HoldoutRow]:
    out = []
    for row in rows:
        ins, outs = row.get("inSample") or {}, row.get("outOfSample") or {}
        text, color = change(metric, mode, row.get("inSampleScore"), row.get("outOfSampleScore"))
        out.append(HoldoutRow(
            rank=int(row.get("rank") or 0), params=param_text(row.get("params") or {}),
            in_score=show_metric(metric, row.get("inSampleScore")),
            out_score=show_metric(metric, row.get("outOfSampleScore")),
            change=text, change_color=color,
            in_return=show_metric("totalReturn", ins.get("totalReturn")),
            out_return=show_metric("totalReturn", outs.get("totalReturn")),
            out_drawdown=show_metric("maxDrawdown", outs.get("maxDrawdown")),
            out_trades=show_metric("trades", outs.get("trades")),
        ))
    return out


def _scatter(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    points = []
    for row in rows:
        x, y = _number(row.get("inSampleScore")), _number(row.get("outOfSampleScore"))
        if x is not None and y is not None:
            points.append({"inSample": round(x, 6), "outOfSample": round(y, 6),
                           "rank": int(row.get("rank") or 0)})
    return points


def _fold_rows(folds: list[dict[str, Any]], metric: str) -> list[FoldRow]:
    return [
        FoldRow(
            fold=int(f.get("fold") or 0), train=window_text(f.get("train")),
            test=window_text(f.get("test")),
            params=param_text(f["params"]) if f.get("params") else "none passed the constraints",
            in_score=show_metric(metric, f.get("inSampleScore")),
            out_score=show_metric(metric, f.get("outOfSampleScore")),
            out_return=show_metric("totalReturn", (f.get("outOfSample") or {}).get("totalReturn")),
        )
        for f in folds
    ]


def _curve(stitched: dict[str, Any]) -> list[dict[str, Any]]:
    dates = stitched.get("dates") or []
    equity = stitched.get("equity") or []
    benchmark = stitched.get("benchmark") or []
    step = max(1, math.ceil(len(dates) / MAX_CURVE_POINTS))
    keep = list(range(0, len(dates), step))
    if dates and keep[-1] != len(dates) - 1:
        keep.append(len(dates) - 1)
    return [{"date": dates[i], "equity": _round(equity[i]), "benchmark": _round(benchmark[i])}
            for i in keep]


def _round(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(number, 2)


def validation_view(answer: dict[str, Any]) -> ValidationView:
    """The view of ``GET …/validation``'s answer."""
    settings = answer.get("settings") or {}
    metric = str(answer.get("metric") or "sharpe")
    mode = str(answer.get("mode") or "max")
    view = ValidationView(kind=str(answer.get("kind") or ""),
                          status=str(answer.get("status") or ""),
                          settings_text=settings_text(settings))
    if view.status == "pending":
        folds = (answer.get("progress") or {}).get("folds") or []
        view.progress_text = (
            " · ".join(f"Fold {f.get('fold')}: {fmt.count(f.get('done'))} / "
                       f"{fmt.count(f.get('total'))}" for f in folds)
            if folds else "The out-of-sample results come once the optimization has ended."
        )
        return view
    if view.status == "failed":
        view.error = str(answer.get("error") or "The validation could not be computed.")
        return view
    if view.kind == "holdout":
        view.split_text = (f"In sample {window_text(answer.get('inSample'))} · "
                           f"out of sample {window_text(answer.get('outOfSample'))} · "
                           f"score: {metric_label(metric)}")
        rows = list(answer.get("rows") or [])
        view.holdout = _holdout_rows(rows, metric, mode)
        view.scatter = _scatter(rows)
        view.sample = _scatter(list(answer.get("sample") or []))
    elif view.kind == "walkforward":
        view.folds = _fold_rows(list(answer.get("folds") or []), metric)
        view.curve = _curve(answer.get("stitched") or {})
        view.efficiency = fmt.decimal(answer.get("efficiency"), 2)
        view.out_annual = fmt.percent(answer.get("outOfSampleAnnualizedReturn"), 2)
        view.in_annual = fmt.percent(answer.get("inSampleAnnualizedReturn"), 2)
        view.split_text = f"score: {metric_label(metric)}"
    return view


def stability_rows(answer: dict[str, Any]) -> list[StabilityRow]:
    metric = str(answer.get("metric") or "sharpe")
    rows = answer.get("data") or []
    # the decimals that tell the scores apart, as in the Top-N table
    places = places_to_tell_apart(metric, [row.get("score") for row in rows])
    return [
        StabilityRow(
            rank=int(row.get("rank") or 0), params=param_text(row.get("params") or {}),
            score=show_score(metric, row.get("score"), places),
            mean=show_score(metric, row.get("neighbourMean"), places),
            worst=show_score(metric, row.get("neighbourWorst"), places),
            neighbours=fmt.count(row.get("neighbours")),
        )
        for row in answer.get("data") or []
    ]

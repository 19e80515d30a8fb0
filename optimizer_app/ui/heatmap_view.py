"""The score heatmap as the page draws it: display-ready ticks, shades and tooltip texts from
the service's ``Heatmap``. Pure functions, unit-tested."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimizer_app.services.heatmap import Heatmap
from optimizer_app.ui import format as fmt
from optimizer_app.ui.vocabulary import metric_label, show_metric

LINE_TICKS = 5


@dataclass
class AxisChoice:
    value: str
    label: str


def _shades(scores: list[float], mode: str) -> list[float]:
    """Each score's shade, 0 (worst) to 1 (best), by its rank among the cells: an outlier
    cannot wash the others into one colour. Equal scores share a shade."""
    if not scores:
        return []
    distinct = sorted(set(scores), reverse=mode == "min")
    if len(distinct) == 1:
        return [1.0] * len(scores)
    rank = {score: k / (len(distinct) - 1) for k, score in enumerate(distinct)}
    return [round(rank[score], 4) for score in scores]


def _line_ticks(scores: list[float], shades: list[float], metric: str) -> list[list[Any]]:
    """Score-axis ticks of the line chart: the best, the worst and evenly spaced ranks."""
    if not scores:
        return []
    by_shade = sorted(zip(shades, scores, strict=True))
    picks = {round(k * (len(by_shade) - 1) / (LINE_TICKS - 1)) for k in range(LINE_TICKS)}
    return [[by_shade[k][0], show_metric(metric, by_shade[k][1])] for k in sorted(picks)]


def chart_data(heatmap: Heatmap, labels: dict[str, str]) -> dict[str, Any]:
    """What ``ScoreHeatmap`` draws (see ``assets/score_heatmap.jsx``)."""
    x_pos = {value: k for k, value in enumerate(heatmap.x_values)}
    y_pos = {value: k for k, value in enumerate(heatmap.y_values)}
    scores = [cell.score for cell in heatmap.cells]
    shades = _shades(scores, heatmap.mode)
    # the other parameters of each cell's combination, as text (computed once per set)
    others = [name for name in heatmap.params if name not in (heatmap.x, heatmap.y)]
    columns = [heatmap.params[name] for name in others]
    texts: dict[tuple[Any, ...], str] = {}
    metric = heatmap.metric
    cells = []
    for k, (cell, shade) in enumerate(zip(heatmap.cells, shades, strict=True)):
        key = tuple(column[k] for column in columns)
        text = texts.get(key)
        if text is None:
            text = texts[key] = " · ".join(
                f"{labels.get(name, name)} {fmt.plain_number(value)}"
                for name, value in zip(others, key, strict=True)
            )
        cells.append([x_pos[cell.x], 0 if cell.y is None else y_pos[cell.y], shade, cell.index,
                      show_metric(metric, cell.score), text])
    line = heatmap.y is None
    return {
        "kind": "line" if line else "heatmap",
        "xLabel": labels.get(heatmap.x, heatmap.x),
        "yLabel": "" if line else labels.get(str(heatmap.y), str(heatmap.y)),
        "xTicks": [fmt.plain_number(v) for v in heatmap.x_values],
        "yTicks": [fmt.plain_number(v) for v in heatmap.y_values],
        "xTips": _spans(heatmap.x_values, heatmap.x_ends, heatmap.x_step),
        "yTips": _spans(heatmap.y_values, heatmap.y_ends, heatmap.y_step),
        "scoreLabel": metric_label(heatmap.metric),
        "lineTicks": _line_ticks(scores, shades, heatmap.metric) if line else [],
        "cells": cells,
    }


def _spans(starts: list[Any], ends: list[Any], step: int) -> list[str]:
    """A column's values for its tooltip: ``14``, or ``2.5–2.57`` for a group."""
    if step <= 1 or len(ends) != len(starts):
        return [fmt.plain_number(v) for v in starts]
    return [fmt.plain_number(a) if a == b else f"{fmt.plain_number(a)}–{fmt.plain_number(b)}"
            for a, b in zip(starts, ends, strict=True)]


def legend(heatmap: Heatmap) -> tuple[str, str]:
    """The worst and the best score shown, in the table's unit."""
    if not heatmap.cells:
        return "", ""
    scores = [cell.score for cell in heatmap.cells]
    best, worst = (max(scores), min(scores)) if heatmap.mode == "max" else (min(scores),
                                                                          max(scores))
    return show_metric(heatmap.metric, worst), show_metric(heatmap.metric, best)


def caption(heatmap: Heatmap, finished: int, labels: dict[str, str] | None = None) -> str:
    """What the chart covers, in words."""
    labels = labels or {}
    if heatmap.y is None:
        what = "Each point is the best score at that value"
    else:
        what = "Each cell is the best score at that pair of values"
    grouped = [f"{fmt.count(step)} values of {labels.get(name, name)}"
               for name, step in ((heatmap.x, heatmap.x_step), (heatmap.y, heatmap.y_step))
               if name and step > 1]
    group_text = f" Each cell groups {' and '.join(grouped)}." if grouped else ""
    return (f"{what}, over all {fmt.count(finished)} finished combinations that pass the "
            f"result constraints.{group_text} Click one to open its combination.")

"""``ScoreHeatmap`` (``assets/score_heatmap.jsx``): the score heatmap drawn on a canvas, with
its tooltip and a click that picks a combination."""

from __future__ import annotations

import reflex as rx
from reflex.event import passthrough_event_spec


class ScoreHeatmap(rx.Component):
    library = "$/public/score_heatmap.jsx"
    tag = "ScoreHeatmap"

    data_json: rx.Var[str]
    height: rx.Var[int]
    on_pick: rx.EventHandler[passthrough_event_spec(int)]  # type: ignore[type-arg,valid-type]


score_heatmap = ScoreHeatmap.create

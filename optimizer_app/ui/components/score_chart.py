"""The score chart: the best score at each pair of values of two chosen parameters over every
finished combination (a line over one parameter when only one varies), coloured from the
worst (red) to the best (green), refreshed while the job runs. A cell opens its
combination."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.components.heatmap_canvas import score_heatmap
from optimizer_app.ui.components.route_match import for_route
from optimizer_app.ui.heatmap_view import AxisChoice
from optimizer_app.ui.states.heatmap import HeatmapState
from optimizer_app.ui.states.job_detail import JobDetailState

H = HeatmapState
S = JobDetailState
GRADIENT = "linear-gradient(90deg, rgb(207, 63, 56), rgb(201, 162, 39), rgb(26, 127, 55))"


def _axis_select(label: str, control_id: str, value: Text, other: Text,
                 on_change: object) -> rx.Component:
    def item(choice: AxisChoice) -> rx.Component:
        # the parameter already on the other axis cannot be chosen here
        return rx.select.item(choice.label, value=choice.value, disabled=choice.value == other)

    return rx.hstack(
        rx.el.label(rx.text(label, size="1", color_scheme="gray"), html_for=control_id),
        rx.select.root(
            rx.select.trigger(id=control_id, variant="soft"),
            rx.select.content(rx.foreach(H.axes, item)),
            value=value,
            on_change=on_change,
            size="1",
        ),
        align="center",
        spacing="2",
    )


def _legend() -> rx.Component:
    return rx.hstack(
        rx.text("Worst", size="1", color_scheme="gray"),
        rx.text(H.worst_text, size="1", weight="medium"),
        rx.box(width="96px", height="10px", background=GRADIENT, border_radius="2px"),
        rx.text(H.best_text, size="1", weight="medium"),
        rx.text("Best", size="1", color_scheme="gray"),
        rx.box(width="14px", height="10px", background="var(--gray-3)",
               border="1px solid var(--gray-6)", border_radius="2px", margin_left="8px"),
        rx.text("not finished or failing a constraint", size="1", color_scheme="gray"),
        spacing="1",
        align="center",
        flex_wrap="wrap",
    )


def _axes() -> rx.Component:
    return rx.cond(
        H.has_choice,
        rx.hstack(
            _axis_select("X axis", "chart-x", H.x_param, H.y_param, H.set_x_param),
            rx.cond(
                H.is_line,
                rx.fragment(),
                _axis_select("Y axis", "chart-y", H.y_param, H.x_param, H.set_y_param),
            ),
            spacing="3",
            flex_wrap="wrap",
        ),
        rx.fragment(),
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.text(
            rx.cond(H.live, "The chart fills in as combinations finish.", "No scores to plot."),
            size="2",
            color_scheme="gray",
        ),
        height="160px",
        width="100%",
        background="var(--gray-a2)",
        border_radius="var(--radius-3)",
    )


def _body() -> rx.Component:
    return rx.cond(
        H.loading,
        rx.skeleton(height="360px", width="100%"),
        rx.cond(
            H.error != "",
            rx.callout(H.error, icon="circle-alert", color_scheme="red", width="100%"),
            rx.cond(
                H.cells > 0,
                rx.vstack(
                    score_heatmap(
                        data_json=H.data,
                        height=360,
                        on_pick=H.open_combination,
                        aria_label="Score by parameters chart",
                        id="score-heatmap",
                    ),
                    rx.hstack(_legend(), width="100%", flex_wrap="wrap"),
                    rx.text(H.caption, size="1", color_scheme="gray"),
                    width="100%",
                    spacing="2",
                ),
                _empty(),
            ),
        ),
    )


def score_chart_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading("Score by parameters", size="4", as_="h2"),
                    rx.text(S.metric_name, ": ", S.direction, size="2", color_scheme="gray"),
                    spacing="1",
                ),
                rx.spacer(),
                _axes(),
                align="start",
                width="100%",
                flex_wrap="wrap",
                spacing="3",
            ),
            for_route("job_id", H.shown_for, _body(), rx.skeleton(height="360px", width="100%")),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )

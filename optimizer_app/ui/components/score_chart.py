"""The score chart: a heatmap of the best score over two chosen parameters, coloured from the
best fifth (green) to the lowest (red), refreshed while the job runs."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.job_view import CHART_BANDS
from optimizer_app.ui.states.job_detail import AxisChoice, JobDetailState

S = JobDetailState
BAND_COLOURS = ("#1a7f37", "#63a35c", "#c9a227", "#e8833a", "#cf3f38")
BAND_LABELS = ("Top 20%", "20–40%", "40–60%", "60–80%", "Bottom 20%")


def _axis_item(choice: AxisChoice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _axis_select(label: str, control_id: str, value: Text, on_change: object) -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.text(label, size="1", color_scheme="gray"), html_for=control_id),
        rx.select.root(
            rx.select.trigger(id=control_id, variant="soft"),
            rx.select.content(rx.foreach(S.axes, _axis_item)),
            value=value,
            on_change=on_change,
            size="1",
        ),
        align="center",
        spacing="2",
    )


def _legend() -> rx.Component:
    return rx.hstack(
        rx.text("Best", size="1", color_scheme="gray"),
        *[
            rx.tooltip(
                rx.box(width="28px", height="10px", background=colour, border_radius="2px"),
                content=label,
            )
            for colour, label in zip(BAND_COLOURS, BAND_LABELS, strict=True)
        ],
        rx.text("Worst", size="1", color_scheme="gray"),
        rx.text("(by rank of the score, in fifths)", size="1", color_scheme="gray"),
        spacing="1",
        align="center",
    )


def _chart() -> rx.Component:
    return rx.recharts.scatter_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
        rx.recharts.x_axis(
            data_key="x",
            type_="number",
            name=S.x_label,
            domain=["auto", "auto"],
            padding={"left": 16, "right": 16},
            label={"value": S.x_label, "position": "insideBottom", "offset": -8},
            tick_count=8,
        ),
        rx.recharts.y_axis(
            data_key="y",
            type_="number",
            name=S.y_label,
            domain=["auto", "auto"],
            padding={"top": 12, "bottom": 12},
            label={
                "value": S.y_label,
                "angle": -90,
                "position": "insideLeft",
                "style": {"textAnchor": "middle"},
            },
            width=72,
        ),
        rx.recharts.z_axis(data_key="score", name="Score", range=[110, 110]),
        rx.recharts.graphing_tooltip(cursor={"strokeDasharray": "3 3"}),
        *[
            rx.recharts.scatter(
                data=S.chart.bands[band],
                name=BAND_LABELS[band],
                fill=BAND_COLOURS[band],
                shape="square",
                is_animation_active=False,
            )
            for band in range(CHART_BANDS)
        ],
        height=340,
        width="100%",
        margin={"top": 8, "right": 16, "bottom": 16, "left": 8},
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
                rx.hstack(
                    _axis_select("X axis", "chart-x", S.x_param, S.set_x_param),
                    _axis_select("Y axis", "chart-y", S.y_param, S.set_y_param),
                    spacing="3",
                    flex_wrap="wrap",
                ),
                align="start",
                width="100%",
                flex_wrap="wrap",
                spacing="3",
            ),
            rx.cond(
                S.chart.shown > 0,
                rx.vstack(
                    rx.box(
                        _chart(), width="100%", role="img", aria_label="Score by parameters chart"
                    ),
                    rx.hstack(
                        _legend(),
                        rx.spacer(),
                        rx.text(S.chart_caption, size="1", color_scheme="gray"),
                        width="100%",
                        flex_wrap="wrap",
                        spacing="3",
                    ),
                    width="100%",
                    spacing="2",
                ),
                rx.center(
                    rx.text(
                        rx.cond(
                            S.live,
                            "The chart fills in as combinations finish.",
                            "No scores to plot.",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    height="160px",
                    width="100%",
                    background="var(--gray-a2)",
                    border_radius="var(--radius-3)",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )

"""Best score over finished combinations: a step line that grows while the job runs."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.states.job_detail import JobDetailState

S = JobDetailState

COUNT_TICK = "(value) => Number(value).toLocaleString('en-US', {maximumFractionDigits: 0})"


def _chart() -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
        rx.recharts.x_axis(
            data_key="finished",
            type_="number",
            domain=[0, "dataMax"],
            label={"value": "Finished combinations", "position": "insideBottom", "offset": -8},
            tick_count=8,
            tick_formatter=COUNT_TICK,  # 239,351 rather than 239351
        ),
        rx.recharts.y_axis(
            data_key="best",
            type_="number",
            domain=["auto", "auto"],
            unit=S.best_unit,
            width=72,
        ),
        rx.recharts.graphing_tooltip(),
        rx.recharts.line(
            data_key="best",
            name="Best score",
            unit=S.best_unit,
            type_="stepAfter",
            stroke="var(--accent-9)",
            stroke_width=2,
            dot=False,
            is_animation_active=False,
        ),
        data=S.best_curve,
        height=260,
        width="100%",
        margin={"top": 8, "right": 16, "bottom": 16, "left": 8},
    )


def best_score_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading("Best score so far", size="4", as_="h2"),
                rx.text(S.metric_name, ": ", S.direction, size="2", color_scheme="gray"),
                rx.cond(
                    S.best_text != "",
                    rx.text("Best so far: ", rx.text.strong(S.best_text, data_testid="best-so-far"),
                            size="2"),
                    rx.fragment(),
                ),
                spacing="1",
            ),
            rx.cond(
                S.best_curve.length() > 0,  # type: ignore[attr-defined]
                rx.box(
                    _chart(), width="100%", role="img", aria_label="Best score over finished chart"
                ),
                rx.center(
                    rx.text(
                        rx.cond(
                            S.live,
                            "The line starts with the first finished combination.",
                            "No scores to plot.",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    height="120px",
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

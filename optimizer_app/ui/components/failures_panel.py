"""The detail page's failures panel (shown when combinations failed): counts per category,
the first failed combinations with their messages, and "Re-run failed combinations"."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.failures_view import FailedRow, FailureCount
from optimizer_app.ui.states.job_detail import JobDetailState
from optimizer_app.ui.theme import space

S = JobDetailState


def _count(row: FailureCount) -> rx.Component:
    return rx.hstack(
        rx.badge(row.label, color_scheme=row.color, variant="soft", size="2"),
        rx.text(row.count, size="3", weight="bold",
                style={"font_variant_numeric": "tabular-nums"}),
        rx.text(row.meaning, size="1", color_scheme="gray"),
        spacing="2",
        align="center",
        flex_wrap="wrap",
        custom_attrs={"data-testid": "failure-count"},
    )


def _failed(row: FailedRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(row.index, size="2", weight="medium",
                    style={"font_variant_numeric": "tabular-nums"}),
            rx.text(row.params, size="2", color_scheme="gray"),
            rx.badge(row.category, color_scheme=row.color, variant="outline", size="1"),
            spacing="2",
            align="center",
            flex_wrap="wrap",
        ),
        rx.text(row.error, size="2", style={"overflow_wrap": "anywhere"}),
        padding_y=space(2),
        border_top="1px solid var(--gray-a4)",
        width="100%",
        custom_attrs={"data-testid": "failed-combination"},
    )


def rerun_failed_button() -> rx.Component:
    return rx.button(
        rx.icon("rotate-ccw", size=14),
        "Re-run failed combinations",
        on_click=S.rerun_failed,
        loading=S.rerunning_failed,
        variant="soft",
        color_scheme="red",
    )


def failures_panel() -> rx.Component:
    return rx.cond(
        S.has_failures,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.hstack(
                        rx.icon("triangle-alert", size=16, color="var(--red-10)"),
                        rx.heading("Failures", size="4", as_="h2"),
                        rx.text(S.failed_text, " combinations failed", size="2",
                                color_scheme="gray"),
                        spacing="2",
                        align="center",
                        flex_wrap="wrap",
                    ),
                    rx.spacer(),
                    rx.cond(S.can_rerun_failed, rerun_failed_button()),
                    width="100%",
                    align="center",
                    flex_wrap="wrap",
                    spacing="3",
                ),
                rx.flex(rx.foreach(S.failure_counts, _count), direction="column", spacing="2"),
                rx.vstack(
                    rx.foreach(S.failed_rows, _failed),
                    spacing="0",
                    width="100%",
                    aria_label="Failed combinations",
                ),
                rx.cond(
                    S.failed_shown_text != "",
                    rx.hstack(
                        rx.text(S.failed_shown_text, size="1", color_scheme="gray"),
                        rx.cond(
                            S.failed_more,
                            rx.button("Show more", size="1", variant="ghost",
                                      on_click=S.show_more_failures),
                        ),
                        spacing="3",
                        align="center",
                        flex_wrap="wrap",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            custom_attrs={"data-testid": "failures-panel"},
        ),
    )

"""New optimization: choose a strategy, a dataset and the parameter grid; the objective, stop
rules and backtest options; then start. Opened from a re-run, the form is pre-filled."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.components.grid_sections import parameter_grid, strategy_and_data
from optimizer_app.ui.components.on_return import on_return
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.components.run_settings import (
    backtest_options,
    objective,
    result_constraints,
    stop_rules,
)
from optimizer_app.ui.components.validation_fields import validation_settings
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.new_optimization import NewOptimizationState
from optimizer_app.ui.theme import space

S = NewOptimizationState


def rerun_banner() -> rx.Component:
    return rx.cond(
        S.source_id != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("rotate-ccw")),
            rx.callout.text(
                "Re-run of ",
                rx.link(S.source_name, href=S.source_href, weight="medium"),
                rx.cond(S.source_combination != "", " · " + S.source_combination, ""),
                ". The form is filled in from it; change anything before starting.",
            ),
            color_scheme="indigo",
            variant="surface",
            width="100%",
        ),
    )


def notice() -> rx.Component:
    return rx.cond(
        S.notice != "",
        rx.callout(S.notice, icon="info", color_scheme="amber", width="100%"),
    )


def _summary_line(label: str, value: Text) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", flex_shrink="0"),
        rx.spacer(),
        rx.text(value, size="2", weight="medium", text_align="right"),
        width="100%",
        align="start",
        spacing="3",
    )


def summary_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Ready to search", size="2", weight="medium", color_scheme="gray"),
            rx.text(
                S.combinations,
                size="5",
                weight="bold",
                aria_live="polite",
                custom_attrs={"data-testid": "combinations"},
            ),
            rx.cond(
                S.run_time != "",
                rx.vstack(
                    rx.hstack(
                        rx.icon("timer", size=14, color="var(--gray-10)", flex_shrink="0"),
                        rx.text(S.run_time, size="2", custom_attrs={"data-testid": "estimate"}),
                        spacing="2",
                        align="start",
                    ),
                    rx.hstack(
                        rx.icon("hard-drive", size=14, color="var(--gray-10)", flex_shrink="0"),
                        rx.text(S.storage, size="2", color_scheme="gray"),
                        spacing="2",
                        align="start",
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.foreach(
                S.quota_warnings,
                lambda warning: rx.callout(
                    warning, icon="triangle-alert", color_scheme="amber", size="1",
                    width="100%", custom_attrs={"data-testid": "quota-warning"},
                ),
            ),
            rx.separator(size="4"),
            _summary_line("Strategy", S.strategy_label),
            _summary_line("Data", S.dataset_label),
            _summary_line("Objective", S.objective),
            _summary_line("Keep", "Top " + S.inputs.top_n),
            rx.cond(
                S.submit_error != "",
                rx.callout(
                    S.submit_error,
                    icon="circle-alert",
                    color_scheme="red",
                    role="alert",
                    size="1",
                    width="100%",
                ),
            ),
            rx.button(
                rx.icon("play", size=16),
                "Start optimization",
                size="3",
                width="100%",
                loading=S.submitting,
                disabled=S.loading,
                on_click=S.submit,
                margin_top=space(2),
            ),
            rx.link("Cancel", href=routes.HISTORY, size="2", align="center", width="100%"),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def loading_placeholder() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height=h, width="100%") for h in ("180px", "260px", "140px")],
        spacing="4",
        width="100%",
        aria_busy="true",
    )


def form_body() -> rx.Component:
    return rx.grid(
        rx.vstack(
            strategy_and_data(),
            parameter_grid(),
            objective(),
            result_constraints(),
            stop_rules(),
            backtest_options(),
            validation_settings(),
            spacing="4",
            width="100%",
            min_width="0",
        ),
        rx.box(summary_panel(), position=rx.breakpoints(initial="static", md="sticky"), top="80px"),
        columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) 280px"),
        spacing="5",
        width="100%",
        align_items="start",
    )


@page(routes.NEW, "New optimization", on_load=[NewOptimizationState.load])
def new_optimization_page() -> rx.Component:
    return rx.vstack(
        page_header(
            "New optimization",
            "Choose a strategy, a dataset and the parameter grid to search.",
        ),
        rerun_banner(),
        notice(),
        rx.cond(S.loading, loading_placeholder(), form_body()),
        on_return(on_return=S.restore_draft),
        spacing="4",
        width="100%",
    )

"""History: the signed-in user's optimization jobs."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.history import HistoryRow, HistoryState
from optimizer_app.ui.theme import space


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.center(
                rx.icon("layers", size=24, color="var(--accent-11)"),
                width="48px",
                height="48px",
                border_radius="var(--radius-4)",
                background="var(--accent-a3)",
            ),
            rx.heading("No optimizations yet", size="4", as_="h2"),
            rx.text(
                "Pick a strategy and a dataset, define a parameter grid, "
                "and watch the best combinations rise to the top.",
                size="2",
                color_scheme="gray",
                text_align="center",
                max_width="420px",
            ),
            rx.button(
                rx.icon("plus", size=16),
                "New optimization",
                size="3",
                margin_top=space(2),
                on_click=rx.redirect(routes.NEW),
            ),
            align="center",
            spacing="3",
            padding_y=space(8),
        ),
        size="3",
        width="100%",
    )


def history_row(row: HistoryRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.name, href=f"{routes.HISTORY}/{row.id}")),
        rx.table.cell(row.strategy),
        rx.table.cell(rx.badge(row.status)),
        rx.table.cell(row.progress),
        rx.table.cell(row.best_score),
        rx.table.cell(row.created_at),
    )


def history_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(label)
                    for label in ("Name", "Strategy", "Status", "Progress", "Best score", "Created")
                ]
            )
        ),
        rx.table.body(rx.foreach(HistoryState.rows, history_row)),
        variant="surface",
        width="100%",
    )


def loading_placeholder() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height="44px", width="100%") for _ in range(3)],
        spacing="2",
        width="100%",
    )


@page(routes.HISTORY, "History", on_load=[HistoryState.load])
def history_page() -> rx.Component:
    return rx.vstack(
        page_header("History", "Your optimization jobs, newest first."),
        rx.cond(
            HistoryState.loading,
            loading_placeholder(),
            rx.cond(HistoryState.has_rows, history_table(), empty_state()),
        ),
        width="100%",
        spacing="0",
    )

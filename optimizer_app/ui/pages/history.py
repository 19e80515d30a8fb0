"""History: the signed-in user's optimization jobs, newest first, with re-run buttons."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.confirm_delete import confirm_delete
from optimizer_app.ui.components.notice_card import notice_card
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.components.scroll_hint import scrolling_table
from optimizer_app.ui.components.status_badge import status_badge
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.history import HistoryRow, HistoryState
from optimizer_app.ui.theme import space

S = HistoryState
# Radix breakpoints: the first value applies below 30em (480 px), the second above.
PHONE_ONLY = rx.breakpoints(initial="block", xs="none")
WIDER_THAN_PHONE = rx.breakpoints(initial="none", xs="table-cell")
NUMERIC = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}


def empty_state() -> rx.Component:
    return notice_card(
        "layers",
        "No optimizations yet",
        "Pick a strategy and a dataset, define a parameter grid, "
        "and watch the best combinations rise to the top.",
        rx.button(rx.icon("plus", size=16), "New optimization", size="3", margin_top=space(2),
                  on_click=rx.redirect(routes.NEW)),
        accent=True,
        heading="h2",
    )


def _name_cell(row: HistoryRow) -> rx.Component:
    return rx.table.row_header_cell(
        rx.vstack(
            rx.link(row.name, href=row.href, weight="medium"),
            rx.cond(
                row.validation != "",
                rx.badge(rx.icon("flask-conical", size=12), row.validation, size="1",
                         variant="soft", color_scheme="violet",
                         custom_attrs={"data-testid": "validated"}),
            ),
            rx.cond(
                row.source_href != "",
                rx.hstack(
                    rx.icon("git-branch", size=12, color="var(--gray-10)"),
                    rx.text("re-run of", size="1", color_scheme="gray"),
                    rx.link(row.source_name, href=row.source_href, size="1"),
                    spacing="1",
                    align="center",
                ),
            ),
            rx.cond(
                row.source_deleted,
                rx.hstack(
                    rx.icon("git-branch", size=12, color="var(--gray-10)"),
                    rx.text("re-run of a deleted optimization", size="1", color_scheme="gray"),
                    spacing="1",
                    align="center",
                ),
            ),
            # at phone width the strategy column is hidden: it is named here instead
            rx.text(row.strategy, size="1", color_scheme="gray", display=PHONE_ONLY),
            spacing="1",
        ),
        min_width=rx.breakpoints(initial="120px", xs="180px"),
        max_width="300px",
    )


def _progress_cell(row: HistoryRow) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.text(
                row.progress,
                size="2",
                white_space="nowrap",
                style={"font_variant_numeric": "tabular-nums"},
            ),
            rx.progress(
                value=row.progress_value,
                max=100,
                size="1",
                width="96px",
                color_scheme=rx.match(
                    row.status,
                    ("running", "blue"),
                    ("queued", "gray"),
                    ("succeeded", "green"),
                    ("failed", "red"),
                    ("canceled", "orange"),
                    "amber",
                ),
            ),
            spacing="1",
        ),
    )


def history_row(row: HistoryRow) -> rx.Component:
    return rx.table.row(
        _name_cell(row),
        rx.table.cell(
            rx.vstack(
                rx.text(row.strategy, size="2"),
                rx.text(
                    row.dataset,
                    size="1",
                    color_scheme="gray",
                    trim="normal",
                    max_width="180px",
                    white_space="nowrap",
                    overflow="hidden",
                    text_overflow="ellipsis",
                    custom_attrs={"title": row.dataset},
                ),
                spacing="0",
            ),
            display=WIDER_THAN_PHONE,
        ),
        rx.table.cell(status_badge(row.status, size="1")),
        _progress_cell(row),
        rx.table.cell(
            rx.vstack(
                rx.text(row.best_score, size="2"),
                rx.text(row.metric, size="1", color_scheme="gray"),
                spacing="0",
                align="end",
            ),
            style=NUMERIC,
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row.created_day, size="2"),
                rx.text(row.created_time, size="1", color_scheme="gray"),
                spacing="0",
                white_space="nowrap",
            ),
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    rx.icon("rotate-ccw", size=12),
                    "Re-run",
                    size="1",
                    variant="soft",
                    on_click=rx.redirect(row.rerun_href),
                    aria_label="Re-run " + row.name,
                    white_space="nowrap",
                ),
                confirm_delete(
                    row.name, S.delete_job(row.id),  # type: ignore[operator]
                    trigger_size="1", icon_only=True,
                ),
                spacing="2",
                justify="end",
            ),
            style={"text_align": "right"},
        ),
        align="center",
    )


def history_table() -> rx.Component:
    headers = (
        ("Name", False),
        ("Strategy", False),
        ("Status", False),
        ("Progress", False),
        ("Best score", True),
        ("Created", False),
        ("", False),
    )
    return scrolling_table(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(
                            label,
                            style={
                                "white_space": "nowrap",
                                **({"text_align": "right"} if numeric else {}),
                            },
                            **({"display": WIDER_THAN_PHONE} if label == "Strategy" else {}),
                        )
                        for label, numeric in headers
                    ]
                )
            ),
            rx.table.body(rx.foreach(S.rows, history_row)),
            variant="surface",
            width="100%",
        ),
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.text(S.page_text, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.cond(
            S.page_count > 1,
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=14),
                    "Previous",
                    variant="soft",
                    size="2",
                    disabled=~S.has_previous,
                    on_click=S.previous_page,
                ),
                rx.text("Page ", S.page + 1, " of ", S.page_count, size="2", color_scheme="gray"),
                rx.button(
                    "Next",
                    rx.icon("chevron-right", size=14),
                    variant="soft",
                    size="2",
                    disabled=~S.has_next,
                    on_click=S.next_page,
                ),
                spacing="3",
                align="center",
            ),
        ),
        align="center",
        width="100%",
        spacing="2",
    )


def loading_placeholder() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height="52px", width="100%") for _ in range(4)],
        spacing="2",
        width="100%",
        aria_busy="true",
    )


def new_button() -> rx.Component:
    return rx.button(rx.icon("plus", size=16), "New optimization", on_click=rx.redirect(routes.NEW))


@page(routes.HISTORY, "History", on_load=[HistoryState.load])
def history_page() -> rx.Component:
    return rx.vstack(
        page_header(
            "History", "Your optimization jobs, newest first.", rx.cond(S.has_rows, new_button())
        ),
        rx.cond(
            S.load_error != "",
            rx.callout(
                S.load_error, icon="circle-alert", color_scheme="red", role="alert", width="100%"
            ),
        ),
        rx.cond(
            S.loading,
            loading_placeholder(),
            rx.cond(
                S.has_rows,
                rx.vstack(history_table(), pager(), spacing="3", width="100%"),
                empty_state(),
            ),
        ),
        width="100%",
        spacing="0",
    )

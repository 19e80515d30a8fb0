"""The live Top-N leaderboard: best first for the job's mode, with the direction stated, a
skeleton while loading and an empty state before the first result."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.job_view import TopRow
from optimizer_app.ui.states.job_detail import JobDetailState
from optimizer_app.ui.theme import space

S = JobDetailState
NUMERIC = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}
COLUMNS = (
    ("Rank", False),
    ("Task", False),
    ("Score", True),
    ("Parameters", False),
    ("Return", True),
    ("Sharpe", True),
    ("Max drawdown", True),
    ("Trades", True),
    ("", False),
)


def _row(row: TopRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.rank, style={"font_variant_numeric": "tabular-nums"}),
        rx.table.cell(
            rx.tooltip(
                rx.code(row.task, variant="ghost", color_scheme="gray"),
                content="Task " + row.task_id,
            ),
        ),
        rx.table.cell(rx.text(row.score, weight="bold"), style=NUMERIC),
        rx.table.cell(row.params, style={"white_space": "nowrap"}),
        rx.table.cell(row.total_return, style=NUMERIC),
        rx.table.cell(row.sharpe, style=NUMERIC),
        rx.table.cell(row.max_drawdown, style=NUMERIC),
        rx.table.cell(row.trades, style=NUMERIC),
        rx.table.cell(
            rx.button(
                rx.icon("rotate-ccw", size=12),
                "Re-run",
                size="1",
                variant="soft",
                on_click=rx.redirect(row.rerun_href),
                aria_label="Re-run combination " + row.task,
            ),
            style={"text_align": "right"},
        ),
        align="center",
    )


def _header() -> rx.Component:
    return rx.table.header(
        rx.table.row(
            *[
                rx.table.column_header_cell(label, style={"text_align": "right"} if numeric else {})
                for label, numeric in COLUMNS
            ]
        )
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("trophy", size=24, color="var(--gray-9)"),
            rx.text("No results yet", weight="medium"),
            rx.text(
                rx.cond(
                    S.live,
                    "The best combinations appear here as soon as the first ones finish.",
                    "No combination produced a score.",
                ),
                size="2",
                color_scheme="gray",
                text_align="center",
            ),
            align="center",
            spacing="2",
        ),
        padding_y=space(7),
        width="100%",
    )


def topn_skeleton() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height="36px", width="100%") for _ in range(5)],
        spacing="2",
        width="100%",
        aria_busy="true",
    )


def topn_card() -> rx.Component:
    return rx.el.section(topn_content(), aria_label="Top combinations", width="100%")


def topn_content() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Top ", S.top_n_size, " combinations", size="4", as_="h2"),
                rx.spacer(),
                rx.badge(
                    rx.cond(
                        S.mode == "min",
                        rx.icon("arrow-down-narrow-wide", size=12),
                        rx.icon("arrow-up-wide-narrow", size=12),
                    ),
                    S.sort_label,
                    variant="surface",
                    color_scheme="gray",
                    size="2",
                    custom_attrs={"data-testid": "sort-direction"},
                ),
                align="center",
                width="100%",
                flex_wrap="wrap",
            ),
            rx.cond(
                S.has_top,
                rx.box(
                    rx.table.root(
                        _header(),
                        rx.table.body(rx.foreach(S.top, _row)),
                        variant="ghost",
                        size="2",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                _empty(),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )

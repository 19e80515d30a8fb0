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
    ("Combination", False),
    ("Score", True),
    ("Parameters", False),
    ("Return", True),
    ("Sharpe", True),
    ("Max drawdown", True),
    ("Trades", True),
    ("", False),
)


def _group_toggle(row: TopRow) -> rx.Component:
    """On the first row of identical ones: "+ 6 identical", opening or closing the others."""
    opened = S.expanded_groups.contains(row.rank)  # type: ignore[attr-defined]
    return rx.cond(
        row.identical > 0,
        rx.button(
            rx.cond(opened, rx.icon("chevron-up", size=12), rx.icon("chevron-down", size=12)),
            rx.cond(opened, "Hide " + row.identical.to_string() + " identical",  # type: ignore[attr-defined]
                    "+ " + row.identical.to_string() + " identical"),  # type: ignore[attr-defined]
            size="1",
            variant="ghost",
            color_scheme="gray",
            on_click=S.toggle_group(row.rank),  # type: ignore[operator]
            custom_attrs={"aria-expanded": rx.cond(opened, "true", "false")},
            title="Combinations with exactly the same trades and metrics",
        ),
        rx.cond(
            row.member,
            rx.text("same trades as rank ", row.group, size="1", color_scheme="gray"),
        ),
    )


def _row(row: TopRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.rank, style={"font_variant_numeric": "tabular-nums"}),
        rx.table.cell(
            rx.tooltip(
                rx.link(row.task, href=row.href, weight="medium",
                        aria_label="Open combination " + row.task),
                content="Open this combination (task " + row.task_id + ")",
            ),
        ),
        rx.table.cell(rx.text(row.score, weight="bold"), style=NUMERIC),
        rx.table.cell(
            rx.hstack(rx.text(row.params), _group_toggle(row), spacing="2", align="center"),
            style={"white_space": "nowrap"},
        ),
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
            style={"text_align": "right", "white_space": "nowrap"},
        ),
        align="center",
        background=rx.cond(row.member, "var(--gray-a2)", "transparent"),
        custom_attrs={"data-group": row.group, "data-member": rx.cond(row.member, "true", "false")},
    )


def goto_field() -> rx.Component:
    """Open any combination of the grid by its number (the Top-N's "#" column)."""
    return rx.el.form(
        rx.vstack(
            rx.hstack(
                rx.el.label(
                    rx.text("Go to combination #", size="2", color_scheme="gray",
                            white_space="nowrap"),
                    html_for="goto-combination",
                ),
                rx.input(
                    id="goto-combination",
                    value=S.goto_text,
                    on_change=S.set_goto_text,
                    placeholder=S.goto_range,
                    input_mode="numeric",
                    size="2",
                    width="9em",
                    aria_invalid=rx.cond(S.goto_error != "", "true", "false"),
                    aria_describedby="goto-combination-error",
                ),
                rx.button("Open", type="submit", size="2", variant="soft"),
                align="center",
                spacing="2",
                flex_wrap="wrap",
            ),
            rx.cond(
                S.goto_error != "",
                rx.text(S.goto_error, id="goto-combination-error", size="1", color_scheme="red",
                        role="alert"),
            ),
            spacing="1",
        ),
        on_submit=lambda _: S.go_to_combination,
        reset_on_submit=False,
        aria_label="Go to a combination",
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
                        rx.table.body(rx.foreach(S.shown_top, _row)),
                        variant="ghost",
                        size="2",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                _empty(),
            ),
            goto_field(),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )

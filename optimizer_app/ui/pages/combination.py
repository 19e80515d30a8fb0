"""One combination of a job: parameters, score and rank, every metric, equity against
buy-and-hold, drawdown, monthly returns and trades, with CSV downloads and a re-run."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.combination_view import Pair
from optimizer_app.ui.components.combination_charts import drawdown_card, equity_card
from optimizer_app.ui.components.combination_tables import monthly_card, trades_card
from optimizer_app.ui.components.notice_card import notice_card
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.combination import CombinationState
from optimizer_app.ui.theme import space

S = CombinationState


def back_link() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=14), rx.text(S.job_name, trim="both"), spacing="1",
                  align="center"),
        href=S.job_href,
        size="2",
        color_scheme="gray",
        aria_label="Back to the optimization " + S.job_name,
    )


def actions() -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("download", size=14), "Equity CSV", variant="soft",
                  on_click=S.download_equity, loading=S.downloading == "equity"),
        rx.button(rx.icon("rotate-ccw", size=14), "Re-run this combination",
                  on_click=rx.redirect(S.rerun_href)),
        spacing="2",
        flex_wrap="wrap",
    )


def header() -> rx.Component:
    return rx.vstack(
        back_link(),
        rx.grid(
            rx.heading(S.title, size="7", as_="h1", weight="bold"),
            actions(),
            columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) auto"),
            spacing="4",
            align_items="center",
            width="100%",
        ),
        rx.text(
            "Of ", rx.link(S.job_name, href=S.job_href, weight="medium"),
            " · ", rx.text.strong(S.strategy), " on ", rx.text.strong(S.dataset),
            " · ", S.total_text, " combinations in the grid",
            size="2",
            color_scheme="gray",
        ),
        spacing="2",
        width="100%",
    )


def _fact(label: str, value: rx.Component, test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.box(value, custom_attrs={"data-testid": test_id}),
        spacing="1",
        min_width="0",
    )


def _pair(pair: Pair) -> rx.Component:
    return rx.hstack(
        rx.text(pair.label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(pair.value, size="2", weight="medium",
                style={"font_variant_numeric": "tabular-nums", "white_space": "nowrap"}),
        width="100%",
        padding_y=space(1),
        border_bottom="1px solid var(--gray-a3)",
    )


def summary_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.grid(
                _fact("Score", rx.text(S.score, size="6", weight="bold",
                                       style={"font_variant_numeric": "tabular-nums"}),
                      "combination-score"),
                _fact("Ranked by", rx.text(S.metric_name, ": ", S.direction, size="2"),
                      "combination-metric"),
                _fact("Rank", rx.badge(S.rank, color_scheme=rx.cond(S.ranked, "green", "gray"),
                                       size="2", variant="soft"), "combination-rank"),
                _fact("Status", rx.text(S.status_text, size="2"), "combination-status"),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="4",
                width="100%",
            ),
            rx.hstack(
                rx.match(
                    S.passes,
                    ("yes", rx.icon("circle-check", size=16, color="var(--green-10)")),
                    ("no", rx.icon("circle-x", size=16, color="var(--red-10)")),
                    rx.icon("filter", size=16, color="var(--gray-10)"),
                ),
                rx.text(S.constraint, size="2"),
                align="center",
                spacing="2",
                custom_attrs={"data-testid": "combination-constraints"},
            ),
            rx.cond(
                S.failed,
                rx.callout(rx.text("This combination failed: ", S.error_text),
                           icon="circle-x", color_scheme="red", width="100%"),
            ),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _list_card(title: str, items: Any, label: str) -> rx.Component:
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.heading(title, size="4", as_="h2"),
                rx.vstack(rx.foreach(items, _pair), spacing="0", width="100%"),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            height="100%",
        ),
        aria_label=label,
        width="100%",
    )


def details() -> rx.Component:
    return rx.grid(
        _list_card("Parameters", S.params, "Parameters"),
        rx.cond(S.failed, rx.fragment(), _list_card("Metrics", S.metrics, "Metrics")),
        columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) minmax(0, 2fr)"),
        spacing="4",
        width="100%",
    )


def action_error() -> rx.Component:
    return rx.cond(
        S.action_error != "",
        rx.callout(S.action_error, icon="circle-alert", color_scheme="red", role="alert",
                   width="100%"),
    )


def combination_view() -> rx.Component:
    return rx.vstack(
        header(),
        action_error(),
        summary_card(),
        details(),
        rx.cond(
            S.failed,
            rx.fragment(),
            rx.fragment(equity_card(), drawdown_card(), monthly_card(), trades_card()),
        ),
        spacing="4",
        width="100%",
    )


def not_found() -> rx.Component:
    return notice_card(
        "search-x",
        S.not_found_title,
        S.not_found_text,
        rx.cond(
            S.job_key != "",
            rx.button("Back to the optimization", on_click=rx.redirect(S.job_href), size="3",
                      margin_top=space(2)),
            rx.button("Back to history", on_click=rx.redirect(routes.HISTORY), size="3",
                      margin_top=space(2)),
        ),
        max_width="460px",
    )


def loading_placeholder() -> rx.Component:
    return rx.vstack(
        rx.skeleton(height="18px", width="30%"),
        rx.skeleton(height="32px", width="45%"),
        rx.skeleton(height="18px", width="60%"),
        rx.skeleton(height="110px", width="100%", margin_top=space(3)),
        rx.skeleton(height="240px", width="100%"),
        rx.skeleton(height="320px", width="100%"),
        spacing="3",
        width="100%",
        aria_busy="true",
        custom_attrs={"data-testid": "combination-loading"},
    )


@page(routes.COMBINATION, "Combination", on_load=[CombinationState.load])
def combination_page() -> rx.Component:
    # Data loaded for another address (the previous combination) is never shown: a skeleton
    # until this address's own data arrives.
    return rx.cond(
        S.loading | (S.shown_path != rx.State.router.url.path),
        loading_placeholder(),
        rx.cond(
            S.not_found,
            not_found(),
            rx.cond(
                S.load_error != "",
                rx.callout(S.load_error, icon="circle-alert", color_scheme="red", role="alert",
                           width="100%"),
                combination_view(),
            ),
        ),
    )

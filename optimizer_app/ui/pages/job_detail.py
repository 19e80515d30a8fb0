"""Detail of one optimization job: status, live progress, Top-N, score chart and actions."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.best_chart import best_score_card
from optimizer_app.ui.components.confirm_delete import confirm_delete
from optimizer_app.ui.components.failures_panel import failures_panel
from optimizer_app.ui.components.notice_card import notice_card
from optimizer_app.ui.components.progress_panel import progress_panel, stop_banner
from optimizer_app.ui.components.route_match import for_route
from optimizer_app.ui.components.score_chart import score_chart_card
from optimizer_app.ui.components.scroll_hint import scroll_hint
from optimizer_app.ui.components.status_badge import status_badge
from optimizer_app.ui.components.topn_table import topn_card, topn_skeleton
from optimizer_app.ui.components.validation_panel import stability_card, validation_card
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.heatmap import HeatmapState
from optimizer_app.ui.states.job_detail import JobDetailState, Link
from optimizer_app.ui.states.validation import ValidationState
from optimizer_app.ui.theme import space

S = JobDetailState


def cancel_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("square", size=14),
                "Cancel",
                color_scheme="red",
                variant="soft",
                loading=S.canceling,
            ),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel this optimization?"),
            rx.alert_dialog.description(
                "Combinations that already finished are kept, with the Top-N found so far; "
                "the rest are not run. This cannot be undone.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Keep running", variant="soft", color_scheme="gray")
                ),
                rx.alert_dialog.action(
                    rx.button("Cancel optimization", color_scheme="red", on_click=S.cancel)
                ),
                spacing="3",
                justify="end",
                margin_top=space(4),
            ),
            max_width="440px",
        ),
    )


def actions() -> rx.Component:
    return rx.hstack(
        rx.cond(S.live, cancel_button()),
        rx.button(
            rx.icon("download", size=14),
            "Export",
            variant="soft",
            on_click=S.export,
            loading=S.exporting,
        ),
        rx.button(rx.icon("rotate-ccw", size=14), "Re-run job", on_click=rx.redirect(S.rerun_href)),
        confirm_delete(S.name, S.delete_job, loading=S.deleting,
                       aria_label="Delete this optimization"),
        spacing="2",
        flex_wrap="wrap",
    )


def _rerun_link(link: Link) -> rx.Component:
    return rx.link(link.label, href=link.href, size="2")


def lineage() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.source.href != "",
            rx.hstack(
                rx.icon("git-branch", size=14, color="var(--gray-10)"),
                rx.text("Re-run of", size="2", color_scheme="gray"),
                rx.link(S.source.label, href=S.source.href, size="2", weight="medium"),
                spacing="2",
                align="center",
            ),
        ),
        rx.cond(
            S.source_deleted,
            rx.hstack(
                rx.icon("git-branch", size=14, color="var(--gray-10)"),
                rx.text("Re-run of an optimization that was deleted", size="2",
                        color_scheme="gray"),
                spacing="2",
                align="center",
            ),
        ),
        rx.cond(
            S.has_reruns,
            rx.hstack(
                rx.icon("git-fork", size=14, color="var(--gray-10)"),
                rx.text("Re-runs:", size="2", color_scheme="gray"),
                rx.foreach(S.reruns, _rerun_link),
                spacing="2",
                align="center",
                flex_wrap="wrap",
            ),
        ),
    )


def header() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "History", spacing="1", align="center"),
            href=routes.HISTORY,
            size="2",
            color_scheme="gray",
        ),
        rx.grid(
            rx.hstack(
                rx.heading(S.name, size="7", as_="h1", weight="bold"),
                status_badge(S.status),
                align="center",
                spacing="3",
                flex_wrap="wrap",
                min_width="0",
            ),
            actions(),
            columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) auto"),
            spacing="4",
            align_items="center",
            width="100%",
        ),
        rx.text(
            rx.text.strong(S.strategy),
            " on ",
            rx.text.strong(S.dataset),
            " · submitted ",
            S.created,
            " · ",
            rx.text.span(S.order_text, custom_attrs={"data-testid": "grid-order"}),
            size="2",
            color_scheme="gray",
        ),
        lineage(),
        spacing="2",
        width="100%",
    )


def action_errors() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.export_error != "",
            rx.callout(
                S.export_error, icon="file-warning", color_scheme="red", role="alert", width="100%"
            ),
        ),
        rx.cond(
            S.action_error != "",
            rx.callout(
                S.action_error,
                icon="circle-alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
    )


def not_found() -> rx.Component:
    return notice_card(
        "search-x",
        "Optimization not found",
        "There is no optimization at this address in your account. "
        "It may belong to someone else, or the link may be incomplete.",
        rx.button("Back to history", on_click=rx.redirect(routes.HISTORY), size="3",
                  margin_top=space(2)),
    )


def load_failed() -> rx.Component:
    return rx.callout(
        S.load_error, icon="circle-alert", color_scheme="red", role="alert", width="100%"
    )


def loading_placeholder() -> rx.Component:
    return rx.vstack(
        rx.skeleton(height="28px", width="40%"),
        rx.skeleton(height="18px", width="60%"),
        rx.skeleton(height="150px", width="100%", margin_top=space(4)),
        rx.card(topn_skeleton(), size="3", width="100%"),
        spacing="3",
        width="100%",
        aria_busy="true",
    )


def job_view() -> rx.Component:
    return rx.vstack(
        header(),
        action_errors(),
        stop_banner(),
        progress_panel(),
        failures_panel(),
        rx.vstack(
            scroll_hint("Swipe the Top-N table sideways to see every column"),
            topn_card(),
            spacing="2",
            width="100%",
        ),
        validation_card(),
        stability_card(),
        best_score_card(),
        score_chart_card(),
        spacing="4",
        width="100%",
    )


@page(routes.JOB_DETAIL, "Optimization",
      on_load=[JobDetailState.load, HeatmapState.load, ValidationState.load])
def job_detail_page() -> rx.Component:
    loaded = rx.cond(
        S.loading,
        loading_placeholder(),
        rx.cond(
            S.not_found,
            not_found(),
            rx.cond(S.load_error != "", load_failed(), job_view()),
        ),
    )
    return for_route("job_id", S.shown_for, loaded, loading_placeholder())

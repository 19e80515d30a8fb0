"""The detail page's progress card: the bar with ``finished / total``, failures and timings;
and the banner over a job that stopped before the end (early-stopped, canceled, failed)."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.states.job_detail import JobDetailState
from optimizer_app.ui.theme import space
from optimizer_app.ui.vocabulary import STATUSES

S = JobDetailState


def stat(label: str, value: Text, *, test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(
            value,
            size="3",
            weight="medium",
            custom_attrs={"data-testid": test_id},
            style={"font_variant_numeric": "tabular-nums"},
        ),
        spacing="1",
        min_width="0",
    )


def progress_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text("Progress", size="2", weight="medium", color_scheme="gray"),
                    rx.hstack(
                        rx.text(
                            S.progress_text,
                            size="6",
                            weight="bold",
                            custom_attrs={"data-testid": "progress-count"},
                            style={"font_variant_numeric": "tabular-nums"},
                        ),
                        rx.text("combinations", size="2", color_scheme="gray"),
                        align="baseline",
                        spacing="2",
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                rx.text(
                    S.progress_percent,
                    size="5",
                    weight="medium",
                    color_scheme="gray",
                    style={"font_variant_numeric": "tabular-nums"},
                ),
                align="end",
                width="100%",
            ),
            rx.progress(
                value=S.progress_value,
                max=100,
                size="3",
                color_scheme=rx.match(
                    S.status,
                    *[(name, style.color) for name, style in STATUSES.items() if name != "queued"],
                    "blue",
                ),
                aria_label="Progress",
                custom_attrs={"aria-valuetext": S.progress_text},
                width="100%",
            ),
            rx.grid(
                stat("Failed", S.failed_text, test_id="failed-count"),
                stat("Elapsed", S.timing.elapsed, test_id="elapsed"),
                stat("Time left", S.timing.eta, test_id="eta"),
                stat("Queue wait", S.timing.queue_wait, test_id="queue-wait"),
                stat("Run time", S.timing.exec_time, test_id="exec-time"),
                columns=rx.breakpoints(initial="2", sm="5"),
                spacing="4",
                width="100%",
                padding_top=space(2),
            ),
            queue_note(),
            rx.cond(
                S.constraints_text != "",
                rx.hstack(
                    rx.icon("filter", size=14, color="var(--gray-10)", flex_shrink="0"),
                    rx.text(
                        "Ranked only if ",
                        rx.text.strong(S.constraints_text),
                        " · ",
                        rx.text.span(S.constrained_text,
                                     style={"font_variant_numeric": "tabular-nums"}),
                        " finished combinations did not pass",
                        size="2",
                        color_scheme="gray",
                        custom_attrs={"data-testid": "constraints"},
                    ),
                    spacing="2",
                    align="center",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def queue_note() -> rx.Component:
    """Why a queued job waits and when it should start; a running job's share of the
    workers."""
    return rx.fragment(
        rx.cond(
            S.queue_headline != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("hourglass")),
                rx.vstack(
                    rx.text(S.queue_headline, weight="bold", size="2",
                            custom_attrs={"data-testid": "queue-position"}),
                    rx.callout.text(S.queue_reason, size="2",
                                    custom_attrs={"data-testid": "queue-reason"}),
                    spacing="1",
                ),
                color_scheme="gray",
                variant="surface",
                role="status",
                width="100%",
            ),
        ),
        rx.cond(
            S.worker_share != "",
            rx.hstack(
                rx.icon("cpu", size=14, color="var(--gray-10)", flex_shrink="0"),
                rx.text(S.worker_share, size="2", color_scheme="gray",
                        custom_attrs={"data-testid": "worker-share"}),
                spacing="2",
                align="center",
            ),
        ),
    )


def stop_banner() -> rx.Component:
    return rx.cond(
        S.banner_title != "",
        rx.callout.root(
            rx.callout.icon(
                rx.match(
                    S.status,
                    ("early-stopped", rx.icon("octagon-pause")),
                    ("canceled", rx.icon("ban")),
                    rx.icon("circle-x"),
                ),
            ),
            rx.vstack(
                rx.text(S.banner_title, weight="bold", size="2"),
                rx.callout.text(S.banner_text, custom_attrs={"data-testid": "final-numbers"}),
                spacing="1",
            ),
            color_scheme=rx.match(
                S.status, ("early-stopped", "amber"), ("canceled", "orange"), "red"
            ),
            role="status",
            width="100%",
        ),
    )

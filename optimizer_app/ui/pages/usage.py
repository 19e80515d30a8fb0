"""Usage: what the signed-in user ran and stores against their quotas; admins also see every
user and set per-user quotas."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.form_fields import field
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.usage import UsageCard, UsageState, UserRow
from optimizer_app.ui.theme import space

S = UsageState
NUMERIC = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}


def usage_card(card: UsageCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(card.label, size="2", color_scheme="gray", weight="medium"),
            rx.text(card.value, size="6", weight="bold",
                    style={"font_variant_numeric": "tabular-nums"}),
            rx.cond(
                card.used_percent >= 0,
                rx.progress(value=card.used_percent, max=100, size="1", width="100%",
                            color_scheme=rx.cond(card.used_percent >= 90, "red", "blue"),
                            aria_label=card.label + " used"),
            ),
            rx.text(card.detail, size="1", color_scheme="gray"),
            spacing="2",
            width="100%",
        ),
        width="100%",
        role="listitem",
    )


def cards() -> rx.Component:
    return rx.grid(
        rx.foreach(S.cards, usage_card),
        columns=rx.breakpoints(initial="1", sm="2", md="3"),
        spacing="3",
        width="100%",
        role="list",
        aria_label="Your usage",
    )


def _user_row(row: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row.email, size="2", weight="medium"),
                rx.hstack(
                    rx.cond(row.admin, rx.badge("admin", size="1", color_scheme="violet")),
                    rx.cond(row.custom, rx.badge("custom quotas", size="1", color_scheme="amber")),
                    spacing="1",
                ),
                spacing="1",
            ),
            min_width="180px",
        ),
        rx.table.cell(row.today, style=NUMERIC),
        rx.table.cell(row.month, style=NUMERIC),
        rx.table.cell(row.compute, style=NUMERIC),
        rx.table.cell(row.storage, style=NUMERIC),
        rx.table.cell(row.live, style=NUMERIC),
        rx.table.cell(rx.text(row.limits, size="1", color_scheme="gray"), min_width="200px"),
        rx.table.cell(
            rx.button(rx.icon("sliders-horizontal", size=12), "Quotas", size="1",
                      variant="soft", on_click=S.edit(row.id),  # type: ignore[operator]
                      aria_label="Set quotas of " + row.email),
            style={"text_align": "right"},
        ),
        align="center",
    )


def users_table() -> rx.Component:
    headers = (("User", False), ("Today", True), ("This month", True), ("Compute", True),
               ("Storage", True), ("Live", True), ("Quotas", False), ("", False))
    return rx.vstack(
        rx.heading("All users", size="4", as_="h2"),
        rx.text("Combinations are counted per UTC day; compute time and this month since the "
                "1st.", size="2", color_scheme="gray"),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[
                    rx.table.column_header_cell(
                        label, style={"white_space": "nowrap",
                                      **({"text_align": "right"} if numeric else {})})
                    for label, numeric in headers
                ])),
                rx.table.body(rx.foreach(S.users, _user_row)),
                variant="surface",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        spacing="2",
        width="100%",
        margin_top=space(6),
    )


def _field(label: str, key: str, value: Any, hint: str) -> rx.Component:
    return field(
        label,
        rx.input(value=value, on_change=lambda v: S.set_field(key, v),  # type: ignore[call-arg,operator]
                 id=f"quota-{key}", placeholder="default", input_mode="decimal", width="100%"),
        control_id=f"quota-{key}",
        hint=hint,
    )


def quota_editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Quotas of ", S.editing_email),
            rx.dialog.description(
                "Blank: the deployment's default. 0: no limit.", size="2", color_scheme="gray"),
            rx.vstack(
                _field("Live jobs", "live_jobs", S.live_jobs, "queued or running at once"),
                _field("Combinations per day", "per_day", S.per_day, "counted per UTC day"),
                _field("Storage (GiB)", "storage_gib", S.storage_gib,
                       "results, artifacts and uploaded datasets"),
                _field("Share of the workers (%)", "share_percent", S.share_percent,
                       "at most, while other users' jobs wait"),
                rx.cond(S.form_error != "",
                        rx.callout(S.form_error, icon="circle-alert", color_scheme="red",
                                   role="alert", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save quotas", on_click=S.save, loading=S.saving),
                    spacing="3",
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top=space(4),
                width="100%",
            ),
            max_width="440px",
        ),
        open=S.editing,
        on_open_change=S.close_editor,
    )


def loading_placeholder() -> rx.Component:
    return rx.grid(
        *[rx.skeleton(height="110px", width="100%") for _ in range(6)],
        columns=rx.breakpoints(initial="1", sm="2", md="3"),
        spacing="3",
        width="100%",
        aria_busy="true",
    )


@page(routes.USAGE, "Usage", on_load=[UsageState.load])
def usage_page() -> rx.Component:
    return rx.vstack(
        page_header("Usage", "What you ran and store, against your quotas."),
        rx.cond(
            S.load_error != "",
            rx.callout(S.load_error, icon="circle-alert", color_scheme="red", role="alert",
                       width="100%"),
        ),
        rx.cond(S.loading, loading_placeholder(), cards()),
        rx.cond(S.is_admin & S.has_users, users_table()),
        quota_editor(),
        width="100%",
        spacing="0",
    )

"""The one "Delete job" confirmation, used by history rows and the detail page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.ui.theme import space

DELETE_WARNING = (
    "Its results, Top-N and export artifacts are removed for good; a running job is canceled "
    "first. Re-runs of it are kept. This cannot be undone."
)


def confirm_delete(
    name: Any, on_confirm: Any, *, trigger_size: str = "2", loading: Any = False,
    icon_only: bool = False, aria_label: Any = None,
) -> rx.Component:
    """A Delete button (named ``aria_label``, by default "Delete <name>") that asks first."""
    label = [] if icon_only else ["Delete"]
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=12 if trigger_size == "1" else 14),
                *label,
                size=trigger_size,
                color_scheme="red",
                variant="soft",
                loading=loading,
                aria_label=aria_label if aria_label is not None else "Delete " + name,
                white_space="nowrap",
            ),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete “", name, "”?"),
            rx.alert_dialog.description(DELETE_WARNING, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete job", color_scheme="red", on_click=on_confirm)
                ),
                spacing="3",
                justify="end",
                margin_top=space(4),
            ),
            max_width="440px",
        ),
    )

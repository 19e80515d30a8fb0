"""The heading block at the top of every signed-in page."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.theme import space


def page_header(title: str, description: str = "", *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="7", as_="h1", weight="bold"),
            *([rx.text(description, size="3", color_scheme="gray")] if description else []),
            spacing="1",
        ),
        rx.spacer(),
        *actions,
        align="end",
        width="100%",
        margin_bottom=space(5),
    )

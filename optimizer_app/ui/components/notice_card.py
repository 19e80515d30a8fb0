"""A centred card that stands for a whole page's content: nothing here yet, or nothing at
this address — an icon, a heading, a sentence and the way on."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.ui.theme import space


def notice_card(icon: str, title: Any, text: Any, action: rx.Component, *, accent: bool = False,
                heading: str = "h1", max_width: str = "420px") -> rx.Component:
    """``accent``: the icon in the theme's colour (an invitation) rather than grey (a miss)."""
    tone = "accent" if accent else "gray"
    return rx.card(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=24, color=f"var(--{tone}-11)"),
                width="48px",
                height="48px",
                border_radius="var(--radius-4)",
                background=f"var(--{tone}-a3)",
            ),
            rx.heading(title, size="4" if heading == "h2" else "5", as_=heading),
            rx.text(text, size="2", color_scheme="gray", text_align="center",
                    max_width=max_width),
            action,
            align="center",
            spacing="3",
            padding_y=space(8),
        ),
        size="3",
        width="100%",
    )

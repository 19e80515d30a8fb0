"""A wide table at phone width: it scrolls sideways inside its own box, and a hint above it
says so (shown below the tablet breakpoint only)."""

from __future__ import annotations

import reflex as rx

NARROW_ONLY = rx.breakpoints(initial="flex", sm="none")  # below 48em (768 px) only


def scroll_hint(text: str = "Swipe the table sideways to see every column") -> rx.Component:
    return rx.hstack(
        rx.icon("move-horizontal", size=14, color="var(--gray-10)"),
        rx.text(text, size="1", color_scheme="gray"),
        spacing="1",
        align="center",
        display=NARROW_ONLY,
        data_testid="scroll-hint",
    )


def scrolling_table(table: rx.Component, **props: object) -> rx.Component:
    """``table`` in a box that scrolls horizontally, with the hint above it."""
    return rx.vstack(
        scroll_hint(),
        rx.box(table, overflow_x="auto", width="100%", max_width="100%",
               style={"-webkit-overflow-scrolling": "touch"}, **props),
        spacing="2",
        width="100%",
    )

"""The product mark: an icon tile and the product name."""

from __future__ import annotations

import reflex as rx

PRODUCT_NAME = "Grid Optimizer"


def brand_mark(size: str = "28px") -> rx.Component:
    return rx.center(
        rx.icon("grid-3x3", size=16, color="white", stroke_width=2.5),
        width=size,
        height=size,
        border_radius="var(--radius-2)",
        background="var(--accent-9)",
        flex_shrink="0",
    )


def brand(*, size: str = "4", name_on_phones: bool = True) -> rx.Component:
    return rx.hstack(
        brand_mark(),
        rx.text(
            PRODUCT_NAME,
            as_="span",
            size=size,
            weight="bold",
            trim="both",
            white_space="nowrap",
            display="block" if name_on_phones else rx.breakpoints(initial="none", sm="block"),
        ),
        align="center",
        spacing="2",
    )

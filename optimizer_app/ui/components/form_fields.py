"""Labelled form controls with their hint and error underneath, and titled form sections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from optimizer_app.ui.theme import space

Text = rx.Var[str] | rx.Var[Any] | str  # a state var (typed as its value by mypy) or text
Flag = rx.Var[bool] | bool


# A segmented control whose chosen option cannot be missed: the accent colour behind it and
# contrasting text (Radix's default is a white pill on light grey, which reads as unselected).
SEGMENTS_STYLE = {
    "& .rt-SegmentedControlIndicator::before": {
        "background_color": "var(--accent-9)",
        "box_shadow": "var(--shadow-2)",
    },
    "& .rt-SegmentedControlItem[data-state='on']": {
        "color": "var(--accent-contrast)",
        "font_weight": "600",
    },
}


def field_error(message: Text) -> rx.Component:
    return rx.cond(
        message != "",
        rx.hstack(
            rx.icon("circle-alert", size=14, flex_shrink="0", margin_top="2px"),
            rx.text(message, size="1"),
            color="var(--red-11)",
            spacing="1",
            align="start",
            role="alert",
        ),
    )


def field(
    label: str,
    control: rx.Component,
    *,
    control_id: str,
    error: Text = "",
    hint: Text = "",
    optional: bool = False,
    **props: Any,
) -> rx.Component:
    """A label above ``control`` (whose id is ``control_id``), then a hint, then the error."""
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.text(label, size="2", weight="medium"),
                *([rx.text("optional", size="1", color_scheme="gray")] if optional else []),
                spacing="2",
                align="baseline",
            ),
            html_for=control_id,
        ),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        field_error(error),
        spacing="1",
        width="100%",
        **props,
    )


def text_input(
    *,
    control_id: str,
    value: Text,
    on_change: Any,
    invalid: Flag = False,
    **props: Any,
) -> rx.Component:
    if isinstance(invalid, rx.Var):
        props["color_scheme"] = rx.cond(invalid, "red", "gray")
        props["custom_attrs"] = {"aria-invalid": rx.cond(invalid, "true", "false")}
    return rx.input(id=control_id, value=value, on_change=on_change, width="100%", **props)


def select(
    *,
    control_id: str,
    value: Text,
    on_change: Any,
    options: Sequence[tuple[str, str]] | None = None,
    dynamic: tuple[Any, Any] | None = None,
    placeholder: str = "",
    **props: Any,
) -> rx.Component:
    """A Radix select over fixed ``options`` ((value, label) pairs) or ``dynamic`` items
    (a list var and a function making an item)."""
    items = (
        [rx.select.item(label, value=key) for key, label in options or ()]
        if dynamic is None
        else [rx.foreach(dynamic[0], dynamic[1])]
    )
    trigger_props = {"aria_label": props.pop("aria_label")} if "aria_label" in props else {}
    return rx.select.root(
        rx.select.trigger(id=control_id, placeholder=placeholder, width="100%", **trigger_props),
        rx.select.content(*items, position="popper"),
        value=value,
        on_change=on_change,
        **props,
    )


def section(title: str, description: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="4", as_="h2"),
                rx.text(description, size="2", color_scheme="gray"),
                spacing="1",
            ),
            *children,
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
        **props,
    )


def columns(*children: rx.Component, count: int = 2) -> rx.Component:
    return rx.grid(
        *children,
        columns=rx.breakpoints(initial="1", sm=str(count)),
        spacing="4",
        width="100%",
        align_items="start",
    )


def gap(step: int = 4) -> rx.Component:
    return rx.box(height=space(step))
